// SPDX-License-Identifier: Apache-2.0
// Writes Delta log actions as the single-line JSON objects of a commit file (PROTOCOL.md "Actions").
#pragma once

#include <span>
#include <string>

#include "tarn/delta/actions.hpp"

namespace tarn::delta {

/// Returns one action as a JSON object line without the trailing newline, e.g. {"add":{"path":...}}. Field names and
/// shapes follow PROTOCOL.md; optional fields are omitted when unset; partition values and tags keep nulls.
/// CommitInfoAction is written from raw_json when it is set (the transaction builds it), else from its fields.
/// Invalid UTF-8 in strings is replaced (U+FFFD), never thrown.
std::string SerializeAction(const Action& action);
/// The same for one add or remove without building an Action (checkpoint writers serialise many of them).
std::string SerializeAction(const AddAction& add);
std::string SerializeAction(const RemoveAction& remove);
/// The same through a JSON DOM (the reference the direct writers above are tested against).
std::string SerializeActionWithDom(const AddAction& add);
std::string SerializeActionWithDom(const RemoveAction& remove);

/// Returns newline-delimited JSON: one line per action, each terminated by '\n' (the content of a commit file).
std::string SerializeActions(std::span<const Action> actions);

}  // namespace tarn::delta
