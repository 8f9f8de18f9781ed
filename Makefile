# Tarn: `make run` builds and starts the platform; `make test` builds and runs every test tier.
BUILD_DIR ?= build
DATA_DIR  ?= ./.tarn-data
JOBS      ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build run test test-unit test-sql test-e2e bench clean

all: build

deps:
	@scripts/install_deps.sh
	@scripts/fetch_duckdb.sh >/dev/null

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/tarn up --data $(DATA_DIR)

test: build
	@scripts/run_tests.sh $(BUILD_DIR)

bench: build
	@bench/run_all.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
