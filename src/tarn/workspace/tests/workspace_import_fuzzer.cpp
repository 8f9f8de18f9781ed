// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: workspace/import bytes (Databricks SOURCE notebooks, Jupyter .ipynb, raw files) and workspace
// paths through the notebook parsers and WorkspaceStore::Import/Export (in-memory metadata and content). Checks the
// documented round trip RenderSource(ParseSource(text, l)) == text. Errors are fine; crashes are not.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "tarn/meta/sqlite_meta_store.hpp"
#include "tarn/notebooks/ipynb_format.hpp"
#include "tarn/notebooks/notebook.hpp"
#include "tarn/notebooks/source_format.hpp"
#include "tarn/storage/in_memory_object_store.hpp"
#include "tarn/workspace/workspace_store.hpp"

namespace {

struct Env {
  std::unique_ptr<tarn::meta::SqliteMetaStore> meta;
  tarn::storage::InMemoryObjectStore content;
  std::unique_ptr<tarn::workspace::WorkspaceStore> store;
};

Env* MakeEnv() {
  auto* env = new Env();  // lives for the whole fuzzing process
  env->meta = tarn::meta::SqliteMetaStore::Open(":memory:").value();
  env->store = std::make_unique<tarn::workspace::WorkspaceStore>(*env->meta, env->content, [] { return int64_t{1}; });
  if (!env->store->Bootstrap().ok()) std::abort();
  return env;
}

constexpr tarn::notebooks::Language kLanguages[] = {tarn::notebooks::Language::kPython, tarn::notebooks::Language::kSql,
                                                    tarn::notebooks::Language::kR, tarn::notebooks::Language::kScala};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tarn;
  static Env* env = MakeEnv();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Whole input: every parser on its own.
  notebooks::DetectSourceLanguage(bytes);
  notebooks::IsValidUtf8(bytes);
  notebooks::ParseLanguage(bytes).status().IgnoreError();
  workspace::NormalizeWorkspacePath(bytes).status().IgnoreError();
  workspace::ParseFormat(bytes).status().IgnoreError();
  for (notebooks::Language language : kLanguages) {
    notebooks::Notebook notebook = notebooks::ParseSource(bytes, language);
    if (notebooks::RenderSource(notebook) != bytes) std::abort();  // documented round trip
    notebooks::RenderIpynb(notebook);
  }
  auto ipynb = notebooks::ParseIpynb(bytes);
  if (ipynb.ok()) {
    notebooks::RenderSource(*ipynb);
    auto again = notebooks::ParseIpynb(notebooks::RenderIpynb(*ipynb));
    if (!again.ok()) std::abort();  // our own rendering must parse
  }

  // Import: byte 0 picks format, language and overwrite; then a name line; then the content.
  if (size < 2) return 0;
  uint8_t control = data[0];
  std::string_view rest = bytes.substr(1);
  size_t newline = rest.find('\n');
  std::string_view name = newline == std::string_view::npos ? std::string_view("n") : rest.substr(0, newline);
  std::string_view content = newline == std::string_view::npos ? rest : rest.substr(newline + 1);
  static constexpr workspace::Format kFormats[] = {workspace::Format::kSource, workspace::Format::kJupyter,
                                                   workspace::Format::kAuto, workspace::Format::kRaw};
  workspace::ImportRequest request;
  request.path = "/Shared/" + std::string(name);
  request.content = std::string(content);
  request.format = kFormats[control & 3];
  if (control & 4) request.language = kLanguages[(control >> 3) & 3];
  request.overwrite = (control & 32) != 0;
  auto imported = env->store->Import(request);
  if (imported.ok()) {
    for (workspace::Format format : kFormats) env->store->Export(imported->path, format).status().IgnoreError();
    env->store->GetStatus(imported->path).status().IgnoreError();
    env->store->Delete(imported->path, true).IgnoreError();
  }
  return 0;
}
