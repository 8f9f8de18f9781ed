// SPDX-License-Identifier: Apache-2.0
// Tests for FaultInjectingObjectStore: failures, crashes before/after effect, dropped unsynced writes.
#include <gtest/gtest.h>

#include "tarn/storage/fault_injecting_object_store.hpp"
#include "tarn/storage/in_memory_object_store.hpp"

namespace tarn::storage {
namespace {

TEST(FaultInjectingObjectStoreTest, PassesThroughWhenDisarmed) {
  InMemoryObjectStore base;
  FaultInjectingObjectStore store(base);
  ASSERT_TRUE(store.Write("a", "1").ok());
  EXPECT_EQ(store.Read("a").value(), "1");
  EXPECT_EQ(base.Read("a").value(), "1");
  EXPECT_EQ(store.num_calls(), 2);
}

TEST(FaultInjectingObjectStoreTest, FailsExactlyTheNthCall) {
  InMemoryObjectStore base;
  FaultInjectingObjectStore store(base);
  store.Arm(2, FaultKind::kFail);
  EXPECT_TRUE(store.Write("a", "1").ok());
  Status failed = store.PutIfAbsent("b", "2");
  EXPECT_EQ(failed.code(), ErrorCode::kIoError);
  EXPECT_EQ(base.Read("b").status().code(), ErrorCode::kResourceDoesNotExist);  // no effect
  EXPECT_TRUE(store.PutIfAbsent("b", "2").ok());                                 // later calls work
  EXPECT_FALSE(store.crashed());
}

TEST(FaultInjectingObjectStoreTest, CrashBeforeEffectStopsEverything) {
  InMemoryObjectStore base;
  FaultInjectingObjectStore store(base);
  store.Arm(1, FaultKind::kCrashBeforeEffect);
  EXPECT_EQ(store.PutIfAbsent("c", "x").code(), ErrorCode::kIoError);
  EXPECT_TRUE(store.crashed());
  EXPECT_EQ(base.Read("c").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(store.Read("anything").status().code(), ErrorCode::kIoError);
  EXPECT_EQ(store.List("").status().code(), ErrorCode::kIoError);
  store.Restart();
  EXPECT_TRUE(store.PutIfAbsent("c", "x").ok());
}

TEST(FaultInjectingObjectStoreTest, CrashAfterEffectLosesOnlyTheAcknowledgement) {
  InMemoryObjectStore base;
  FaultInjectingObjectStore store(base);
  store.Arm(1, FaultKind::kCrashAfterEffect);
  EXPECT_EQ(store.PutIfAbsent("_delta_log/0.json", "commit").code(), ErrorCode::kIoError);
  EXPECT_TRUE(store.crashed());
  store.Restart();
  // The commit happened although the writer saw an error: a retry must find it.
  EXPECT_EQ(store.Read("_delta_log/0.json").value(), "commit");
  EXPECT_EQ(store.PutIfAbsent("_delta_log/0.json", "again").code(), ErrorCode::kAlreadyExists);
}

TEST(FaultInjectingObjectStoreTest, CrashDropsUnsyncedWrites) {
  InMemoryObjectStore base;
  FaultInjectingObjectStore store(base);
  ASSERT_TRUE(store.Write("kept", "old").ok());
  ASSERT_TRUE(store.Write("kept", "new-unsynced", WriteOptions{.sync = false}).ok());
  ASSERT_TRUE(store.Write("gone", "unsynced", WriteOptions{.sync = false}).ok());
  ASSERT_TRUE(store.Write("synced-later", "a", WriteOptions{.sync = false}).ok());
  ASSERT_TRUE(store.Write("synced-later", "b", WriteOptions{.sync = true}).ok());
  ASSERT_TRUE(store.PutIfAbsent("durable", "d").ok());
  EXPECT_EQ(store.Read("kept").value(), "new-unsynced");
  store.Crash();
  store.Restart();
  EXPECT_EQ(store.Read("kept").value(), "old");
  EXPECT_EQ(store.Read("gone").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(store.Read("synced-later").value(), "b");
  EXPECT_EQ(store.Read("durable").value(), "d");
}

TEST(FaultInjectingObjectStoreTest, ArmedCrashDropsUnsyncedWritesToo) {
  InMemoryObjectStore base;
  FaultInjectingObjectStore store(base);
  ASSERT_TRUE(store.Write("tmp", "x", WriteOptions{.sync = false}).ok());
  store.Arm(1, FaultKind::kCrashBeforeEffect);
  EXPECT_FALSE(store.Read("tmp").has_value());
  store.Restart();
  EXPECT_EQ(store.Read("tmp").status().code(), ErrorCode::kResourceDoesNotExist);
}

TEST(FaultInjectingObjectStoreTest, DisarmCancelsFault) {
  InMemoryObjectStore base;
  FaultInjectingObjectStore store(base);
  store.Arm(1, FaultKind::kFail);
  store.Disarm();
  EXPECT_TRUE(store.Write("a", "1").ok());
}

}  // namespace
}  // namespace tarn::storage
