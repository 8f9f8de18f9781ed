// SPDX-License-Identifier: Apache-2.0
// Tests for WorkspaceStore on an in-memory metadata database and object store.
#include "tarn/workspace/workspace_store.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tarn/meta/sqlite_meta_store.hpp"
#include "tarn/storage/fault_injecting_object_store.hpp"
#include "tarn/storage/in_memory_object_store.hpp"

namespace tarn::workspace {
namespace {

using notebooks::Language;

constexpr char kPythonSource[] =
    "# Databricks notebook source\n# MAGIC %md\n# MAGIC # Hello\n\n# COMMAND ----------\n\nprint(1)";

class WorkspaceStoreTest : public ::testing::Test {
 protected:
  WorkspaceStoreTest() {
    auto opened = meta::SqliteMetaStore::Open(":memory:");
    EXPECT_TRUE(opened.has_value()) << opened.status().ToString();
    meta_ = std::move(opened).value();
    store_ = std::make_unique<WorkspaceStore>(*meta_, content_, [this] { return now_; });
  }

  Result<ObjectInfo> ImportSource(std::string path, std::string content = kPythonSource,
                                  std::optional<Language> language = Language::kPython, bool overwrite = false) {
    ImportRequest request;
    request.path = std::move(path);
    request.content = std::move(content);
    request.format = Format::kSource;
    request.language = language;
    request.overwrite = overwrite;
    return store_->Import(request);
  }

  Result<ObjectInfo> ImportAs(std::string path, std::string content, Format format) {
    ImportRequest request;
    request.path = std::move(path);
    request.content = std::move(content);
    request.format = format;
    return store_->Import(request);
  }

  std::unique_ptr<meta::SqliteMetaStore> meta_;
  storage::InMemoryObjectStore content_;
  int64_t now_ = 1'700'000'000'000;
  std::unique_ptr<WorkspaceStore> store_;
};

TEST_F(WorkspaceStoreTest, NormalizesPaths) {
  EXPECT_EQ(*NormalizeWorkspacePath("/"), "/");
  EXPECT_EQ(*NormalizeWorkspacePath("/a/b/"), "/a/b");
  EXPECT_EQ(*NormalizeWorkspacePath("/Workspace/Users/x"), "/Users/x");
  EXPECT_EQ(*NormalizeWorkspacePath("/Workspace"), "/");
  EXPECT_EQ(*NormalizeWorkspacePath("/Workspaces"), "/Workspaces");
  EXPECT_EQ(*NormalizeWorkspacePath("/a b/\xc3\xa9.py"), "/a b/\xc3\xa9.py");
  for (const std::string& bad :
       std::vector<std::string>{"", "a/b", "/a//b", "/a/./b", "/a/../b", std::string("/a\0b", 4), "/a\nb", "/\xff",
                                "/" + std::string(256, 'x')}) {
    auto normalized = NormalizeWorkspacePath(bad);
    ASSERT_FALSE(normalized.has_value()) << bad;
    EXPECT_EQ(normalized.status().code(), ErrorCode::kInvalidParameterValue);
  }
}

TEST_F(WorkspaceStoreTest, ImportExportSourceRoundTripIsByteEqual) {
  ASSERT_TRUE(store_->Mkdirs("/Users/ana").ok());
  auto imported = ImportSource("/Users/ana/nb");
  ASSERT_TRUE(imported.has_value()) << imported.status().ToString();
  EXPECT_EQ(imported->type, ObjectType::kNotebook);
  EXPECT_EQ(imported->language, Language::kPython);
  EXPECT_GT(imported->object_id, 0);
  EXPECT_EQ(imported->created_at, now_);

  auto source = store_->Export("/Users/ana/nb", Format::kSource);
  ASSERT_TRUE(source.has_value()) << source.status().ToString();
  EXPECT_EQ(source->content, kPythonSource);
  EXPECT_EQ(source->file_type, "py");

  // Stored as nbformat-4 .ipynb with the language in the kernelspec.
  auto stored = content_.Read("tree/Users/ana/nb.ipynb");
  ASSERT_TRUE(stored.has_value());
  auto document = nlohmann::json::parse(*stored);
  EXPECT_EQ(document["nbformat"], 4);
  EXPECT_EQ(document["metadata"]["kernelspec"]["language"], "python");
  EXPECT_EQ(document["cells"].size(), 2u);

  auto jupyter = store_->Export("/Users/ana/nb", Format::kJupyter);
  ASSERT_TRUE(jupyter.has_value());
  EXPECT_EQ(jupyter->content, *stored);
  EXPECT_EQ(jupyter->file_type, "ipynb");
  // JUPYTER back in: the same SOURCE comes out.
  auto reimported = ImportAs("/Users/ana/copy", jupyter->content, Format::kJupyter);
  ASSERT_TRUE(reimported.has_value()) << reimported.status().ToString();
  EXPECT_EQ(store_->Export("/Users/ana/copy", Format::kSource)->content, kPythonSource);

  auto status = store_->GetStatus("/Users/ana/nb");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->object_id, imported->object_id);
  EXPECT_EQ(status->size, static_cast<int64_t>(stored->size()));
}

TEST_F(WorkspaceStoreTest, LanguagesAndDetection) {
  struct Case {
    std::string content;
    std::optional<Language> language;
    Language expected;
  };
  std::vector<Case> cases = {
      {"-- Databricks notebook source\nSELECT 1", std::nullopt, Language::kSql},
      {"// Databricks notebook source\nval x = 1", std::nullopt, Language::kScala},
      {"# Databricks notebook source\nx <- 1", Language::kR, Language::kR},
      {"SELECT 2", Language::kSql, Language::kSql},
  };
  int i = 0;
  for (const auto& c : cases) {
    std::string path = "/nb" + std::to_string(i++);
    auto imported = ImportSource(path, c.content, c.language);
    ASSERT_TRUE(imported.has_value()) << imported.status().ToString();
    EXPECT_EQ(imported->language, c.expected) << c.content;
    auto exported = store_->Export(path, Format::kSource);
    ASSERT_TRUE(exported.has_value());
    EXPECT_EQ(exported->content, c.content);
    EXPECT_EQ(exported->file_type, notebooks::SourceExtension(c.expected));
  }
  auto missing = ImportSource("/no_language", "print(1)", std::nullopt);
  EXPECT_EQ(missing.status().code(), ErrorCode::kInvalidParameterValue);
  auto binary = ImportSource("/binary", "# Databricks notebook source\n\xff\xfe");
  EXPECT_EQ(binary.status().code(), ErrorCode::kInvalidParameterValue);
  auto bad_ipynb = ImportAs("/bad", "{not json", Format::kJupyter);
  EXPECT_EQ(bad_ipynb.status().code(), ErrorCode::kInvalidParameterValue);
  auto dbc = ImportAs("/dbc", "x", Format::kDbc);
  EXPECT_EQ(dbc.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(ParseFormat("source").status().code(), ErrorCode::kInvalidParameterValue);  // case-sensitive
  EXPECT_EQ(*ParseFormat("R_MARKDOWN"), Format::kRMarkdown);
  // Nothing of the failed imports is visible.
  auto root = store_->List("/");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->size(), 4u);
}

TEST_F(WorkspaceStoreTest, AutoAndRawImports) {
  auto notebook = ImportAs("/etl.py", kPythonSource, Format::kAuto);
  ASSERT_TRUE(notebook.has_value()) << notebook.status().ToString();
  EXPECT_EQ(notebook->path, "/etl");  // the extension of notebooks is stripped
  EXPECT_EQ(notebook->type, ObjectType::kNotebook);
  auto r_notebook = ImportAs("/model.r", "# Databricks notebook source\nx <- 1", Format::kAuto);
  ASSERT_TRUE(r_notebook.has_value());
  EXPECT_EQ(r_notebook->path, "/model");
  EXPECT_EQ(r_notebook->language, Language::kR);
  auto ipynb = ImportAs("/analysis.ipynb", store_->Export("/etl", Format::kJupyter)->content, Format::kAuto);
  ASSERT_TRUE(ipynb.has_value()) << ipynb.status().ToString();
  EXPECT_EQ(ipynb->path, "/analysis");
  auto plain = ImportAs("/helpers.py", "def f():\n    return 1\n", Format::kAuto);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->type, ObjectType::kFile);  // no notebook header: a file
  EXPECT_EQ(plain->path, "/helpers.py");
  std::string bytes("\x00\x01\xff raw", 7);
  auto raw = ImportAs("/data.bin", bytes, Format::kRaw);
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->size, 7);
  EXPECT_FALSE(raw->language.has_value());
  for (Format format : {Format::kSource, Format::kAuto, Format::kRaw}) {
    auto exported = store_->Export("/data.bin", format);
    ASSERT_TRUE(exported.has_value());
    EXPECT_EQ(exported->content, bytes);
    EXPECT_EQ(exported->file_type, "bin");
  }
  EXPECT_EQ(store_->Export("/data.bin", Format::kJupyter).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(store_->Export("/etl", Format::kHtml).status().code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(WorkspaceStoreTest, OverwriteAndConflicts) {
  ASSERT_TRUE(ImportSource("/nb").has_value());
  auto again = ImportSource("/nb", "# Databricks notebook source\nprint(2)");
  EXPECT_EQ(again.status().code(), ErrorCode::kResourceAlreadyExists);
  EXPECT_EQ(store_->Export("/nb", Format::kSource)->content, kPythonSource);
  int64_t id = store_->GetStatus("/nb")->object_id;
  now_ += 1000;
  auto overwritten = ImportSource("/nb", "# Databricks notebook source\nprint(2)", Language::kPython, true);
  ASSERT_TRUE(overwritten.has_value()) << overwritten.status().ToString();
  EXPECT_EQ(overwritten->object_id, id);
  EXPECT_EQ(overwritten->modified_at, now_);
  EXPECT_EQ(overwritten->created_at, now_ - 1000);
  EXPECT_EQ(store_->Export("/nb", Format::kSource)->content, "# Databricks notebook source\nprint(2)");
  // A notebook and a file cannot share a stored name; a folder is never overwritten.
  EXPECT_EQ(ImportAs("/nb.ipynb", "x", Format::kRaw).status().code(), ErrorCode::kResourceAlreadyExists);
  EXPECT_EQ(store_->Mkdirs("/nb.ipynb").code(), ErrorCode::kResourceAlreadyExists);
  ASSERT_TRUE(store_->Mkdirs("/dir").ok());
  EXPECT_EQ(ImportSource("/dir", kPythonSource, Language::kPython, true).status().code(),
            ErrorCode::kResourceAlreadyExists);
  // Overwriting a notebook with a file moves the content and drops the old .ipynb.
  ImportRequest file;
  file.path = "/nb";
  file.content = "plain";
  file.format = Format::kRaw;
  file.overwrite = true;
  ASSERT_TRUE(store_->Import(file).has_value());
  EXPECT_EQ(store_->GetStatus("/nb")->type, ObjectType::kFile);
  EXPECT_FALSE(content_.Read("tree/nb.ipynb").has_value());
  EXPECT_EQ(*content_.Read("tree/nb"), "plain");
}

TEST_F(WorkspaceStoreTest, ParentsMkdirsAndList) {
  EXPECT_EQ(ImportSource("/missing/nb").status().code(), ErrorCode::kResourceDoesNotExist);
  ASSERT_TRUE(store_->Mkdirs("/a/b/c").ok());
  ASSERT_TRUE(store_->Mkdirs("/a/b").ok());  // existing folders are fine
  ASSERT_TRUE(ImportSource("/a/nb").has_value());
  EXPECT_EQ(store_->Mkdirs("/a/nb/x").code(), ErrorCode::kResourceAlreadyExists);
  EXPECT_EQ(ImportSource("/a/nb/x").status().code(), ErrorCode::kResourceDoesNotExist);
  auto listed = store_->List("/a");
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].path, "/a/b");
  EXPECT_EQ((*listed)[0].type, ObjectType::kDirectory);
  EXPECT_EQ((*listed)[1].path, "/a/nb");
  EXPECT_EQ(store_->List("/a/nb")->size(), 1u);  // a notebook lists itself
  EXPECT_EQ(store_->List("/nope").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(store_->GetStatus("/nope").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(store_->GetStatus("/")->type, ObjectType::kDirectory);
  // notebooks_modified_after filters notebooks only.
  EXPECT_EQ(store_->List("/a", now_)->size(), 1u);
  EXPECT_EQ(store_->List("/a", now_ - 1)->size(), 2u);
}

TEST_F(WorkspaceStoreTest, DeleteFoldersNeedRecursive) {
  ASSERT_TRUE(store_->Mkdirs("/p/q").ok());
  ASSERT_TRUE(ImportSource("/p/q/nb").has_value());
  ASSERT_TRUE(ImportAs("/p/file.txt", "hello", Format::kRaw).has_value());
  ASSERT_TRUE(store_->Mkdirs("/p%").ok());  // LIKE-special characters do not widen the subtree
  ASSERT_TRUE(ImportAs("/p%/keep", "x", Format::kRaw).has_value());
  ASSERT_TRUE(store_->Mkdirs("/pq").ok());
  EXPECT_EQ(store_->Delete("/p", false).code(), ErrorCode::kDirectoryNotEmpty);
  EXPECT_TRUE(store_->GetStatus("/p/q/nb").has_value());
  ASSERT_TRUE(store_->Delete("/p", true).ok());
  EXPECT_EQ(store_->GetStatus("/p").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(store_->GetStatus("/p/q/nb").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_FALSE(content_.Read("tree/p/q/nb.ipynb").has_value());
  EXPECT_FALSE(content_.Read("tree/p/file.txt").has_value());
  EXPECT_TRUE(store_->GetStatus("/p%/keep").has_value());
  EXPECT_TRUE(store_->GetStatus("/pq").has_value());
  EXPECT_EQ(store_->Delete("/p", true).code(), ErrorCode::kResourceDoesNotExist);
  ASSERT_TRUE(store_->Delete("/pq", false).ok());  // empty folder
  EXPECT_EQ(store_->Delete("/", true).code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(WorkspaceStoreTest, HomesAndBootstrap) {
  ASSERT_TRUE(store_->Bootstrap().ok());
  ASSERT_TRUE(store_->EnsureHome("ana@example.com").ok());
  ASSERT_TRUE(store_->EnsureHome("ana@example.com").ok());
  EXPECT_EQ(store_->GetStatus("/Users/ana@example.com")->type, ObjectType::kDirectory);
  EXPECT_EQ(store_->GetStatus("/Shared")->type, ObjectType::kDirectory);
  ASSERT_TRUE(store_->EnsureHome("weird/name").ok());  // not a folder name: ignored
  EXPECT_FALSE(store_->GetStatus("/Users/weird").has_value());
}

TEST_F(WorkspaceStoreTest, SizeLimit) {
  std::string big(kMaxObjectBytes + 1, 'x');
  EXPECT_EQ(ImportAs("/big", big, Format::kRaw).status().code(), ErrorCode::kMaxNotebookSizeExceeded);
  big.pop_back();
  EXPECT_TRUE(ImportAs("/big", big, Format::kRaw).has_value());
}

TEST(WorkspaceStoreFaultTest, FailedPublishLeavesNothingVisible) {
  auto opened = meta::SqliteMetaStore::Open(":memory:");
  ASSERT_TRUE(opened.has_value());
  storage::InMemoryObjectStore memory;
  storage::FaultInjectingObjectStore faulty(memory);
  WorkspaceStore store(**opened, faulty);
  ImportRequest request;
  request.path = "/nb";
  request.content = kPythonSource;
  request.language = Language::kPython;
  // Fail the second store call: the rename that publishes the staged content (the first one writes it).
  faulty.Arm(2, storage::FaultKind::kFail);
  auto failed = store.Import(request);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(store.GetStatus("/nb").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_TRUE(memory.List("").value().empty());
  EXPECT_TRUE(store.Import(request).has_value());
}

}  // namespace
}  // namespace tarn::workspace
