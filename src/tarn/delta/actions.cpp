// SPDX-License-Identifier: Apache-2.0
// Action helpers and the simdjson-based reader of newline-delimited JSON log content.
#include "tarn/delta/actions.hpp"

#include <simdjson.h>

#include <cstring>

namespace tarn::delta {
namespace {

namespace od = simdjson::ondemand;

// Error raised while decoding one line; converted to a Status with the line context by the caller.
struct LineError {
  std::string message;
};

// Decodes actions of one line into reusable buffers and hands them to the visitor.
class LineParser {
 public:
  Status ParseLine(simdjson::padded_string_view line, ActionVisitor& visitor) {
    od::document doc;
    if (auto error = parser_.iterate(line).get(doc)) return Fail(error);
    od::object root;
    if (auto error = doc.get_object().get(root)) return Fail(error);
    for (auto field_result : root) {
      od::field field;
      if (auto error = std::move(field_result).get(field)) return Fail(error);
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) return Fail(error);
      od::value value = field.value();
      bool is_null = false;
      if (auto error = value.is_null().get(is_null)) return Fail(error);
      if (is_null) continue;
      Status st;
      if (key == "add") {
        st = ParseAdd(value);
        if (st.ok()) st = visitor.OnAdd(add_);
      } else if (key == "remove") {
        st = ParseRemove(value);
        if (st.ok()) st = visitor.OnRemove(remove_);
      } else if (key == "metaData") {
        MetadataAction metadata;
        st = ParseMetadata(value, metadata);
        if (st.ok()) st = visitor.OnMetadata(metadata);
      } else if (key == "protocol") {
        ProtocolAction protocol;
        st = ParseProtocol(value, protocol);
        if (st.ok()) st = visitor.OnProtocol(protocol);
      } else if (key == "txn") {
        TxnAction txn;
        st = ParseTxn(value, txn);
        if (st.ok()) st = visitor.OnTxn(txn);
      } else if (key == "commitInfo") {
        CommitInfoAction info;
        st = ParseCommitInfo(value, info);
        if (st.ok()) st = visitor.OnCommitInfo(info);
      } else if (key == "cdc") {
        CdcAction cdc;
        st = ParseCdc(value, cdc);
        if (st.ok()) st = visitor.OnCdc(cdc);
      } else if (key == "domainMetadata") {
        DomainMetadataAction domain;
        st = ParseDomainMetadata(value, domain);
        if (st.ok()) st = visitor.OnDomainMetadata(domain);
      } else if (key == "checkpointMetadata") {
        CheckpointMetadataAction checkpoint;
        st = ParseCheckpointMetadata(value, checkpoint);
        if (st.ok()) st = visitor.OnCheckpointMetadata(checkpoint);
      } else if (key == "sidecar") {
        SidecarAction sidecar;
        st = ParseSidecar(value, sidecar);
        if (st.ok()) st = visitor.OnSidecar(sidecar);
      }
      if (!st.ok()) return st;
    }
    return Status::OK();
  }

 private:
  static Status Fail(simdjson::error_code error) {
    return Error(ErrorCode::kCorruptData, "malformed JSON: {}", simdjson::error_message(error));
  }

  // Iterates an object's fields, calling fn(key, value) -> Status.
  template <typename Fn>
  static Status ForEachField(od::value& value, Fn&& fn) {
    od::object object;
    if (auto error = value.get_object().get(object)) return Fail(error);
    for (auto field_result : object) {
      od::field field;
      if (auto error = std::move(field_result).get(field)) return Fail(error);
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) return Fail(error);
      od::value child = field.value();
      TARN_RETURN_IF_ERROR(fn(key, child));
    }
    return Status::OK();
  }

  static Status IsNull(od::value& value, bool& is_null) {
    if (auto error = value.is_null().get(is_null)) return Fail(error);
    return Status::OK();
  }

  static Status GetString(od::value& value, std::string& out) {
    std::string_view view;
    if (auto error = value.get_string().get(view)) return Fail(error);
    out.assign(view.data(), view.size());
    return Status::OK();
  }

  static Status GetOptionalString(od::value& value, std::optional<std::string>& out) {
    bool is_null = false;
    TARN_RETURN_IF_ERROR(IsNull(value, is_null));
    if (is_null) {
      out.reset();
      return Status::OK();
    }
    if (!out) out.emplace();
    return GetString(value, *out);
  }

  static Status GetInt(od::value& value, int64_t& out) {
    od::json_type type;
    if (auto error = value.type().get(type)) return Fail(error);
    if (type == od::json_type::number) {
      od::number_type number_type;
      if (auto error = value.get_number_type().get(number_type)) return Fail(error);
      if (number_type == od::number_type::floating_point_number) {
        double d = 0;
        if (auto error = value.get_double().get(d)) return Fail(error);
        out = static_cast<int64_t>(d);
        return Status::OK();
      }
      if (auto error = value.get_int64().get(out)) return Fail(error);
      return Status::OK();
    }
    if (type == od::json_type::string) {  // some writers quote numbers
      std::string_view text;
      if (auto error = value.get_string().get(text)) return Fail(error);
      char* end = nullptr;
      std::string copy(text);
      out = std::strtoll(copy.c_str(), &end, 10);
      if (copy.empty() || *end != '\0') return Error(ErrorCode::kCorruptData, "expected an integer, got \"{}\"", text);
      return Status::OK();
    }
    return Error(ErrorCode::kCorruptData, "expected an integer");
  }

  static Status GetOptionalInt(od::value& value, std::optional<int64_t>& out) {
    bool is_null = false;
    TARN_RETURN_IF_ERROR(IsNull(value, is_null));
    if (is_null) {
      out.reset();
      return Status::OK();
    }
    int64_t v = 0;
    TARN_RETURN_IF_ERROR(GetInt(value, v));
    out = v;
    return Status::OK();
  }

  static Status GetBool(od::value& value, bool& out) {
    bool is_null = false;
    TARN_RETURN_IF_ERROR(IsNull(value, is_null));
    if (is_null) return Status::OK();  // keep the default
    if (auto error = value.get_bool().get(out)) return Fail(error);
    return Status::OK();
  }

  // Fills `entries` in place (reusing their string buffers) from a JSON object of nullable strings.
  static Status GetMap(od::value& value, std::vector<MapEntry>& entries) {
    bool is_null = false;
    TARN_RETURN_IF_ERROR(IsNull(value, is_null));
    size_t count = 0;
    if (!is_null) {
      TARN_RETURN_IF_ERROR(ForEachField(value, [&](std::string_view key, od::value& child) -> Status {
        if (count == entries.size()) entries.emplace_back();
        MapEntry& entry = entries[count++];
        entry.key.assign(key.data(), key.size());
        od::json_type type;
        if (auto error = child.type().get(type)) return Fail(error);
        if (type == od::json_type::null) {
          entry.value.reset();
          return Status::OK();
        }
        if (type == od::json_type::string) return GetOptionalString(child, entry.value);
        // Non-string scalars (some writers emit numbers/booleans): keep their JSON text.
        std::string_view raw = child.raw_json_token();
        while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
          raw.remove_suffix(1);
        }
        entry.value.emplace(raw);
        return Status::OK();
      }));
    }
    entries.resize(count);
    return Status::OK();
  }

  static Status GetStringMap(od::value& value, std::map<std::string, std::string>& out) {
    out.clear();
    std::vector<MapEntry> entries;
    TARN_RETURN_IF_ERROR(GetMap(value, entries));
    for (auto& entry : entries) out[std::move(entry.key)] = entry.value.value_or("");
    return Status::OK();
  }

  static Status GetStringArray(od::value& value, std::vector<std::string>& out) {
    out.clear();
    od::array array;
    if (auto error = value.get_array().get(array)) return Fail(error);
    for (auto element : array) {
      std::string_view text;
      if (auto error = element.get_string().get(text)) return Fail(error);
      out.emplace_back(text);
    }
    return Status::OK();
  }

  static Status ParseDeletionVector(od::value& value, std::optional<DeletionVectorDescriptor>& out) {
    bool is_null = false;
    TARN_RETURN_IF_ERROR(IsNull(value, is_null));
    if (is_null) {
      out.reset();
      return Status::OK();
    }
    DeletionVectorDescriptor& dv = out.emplace();
    return ForEachField(value, [&](std::string_view key, od::value& child) -> Status {
      if (key == "storageType") return GetString(child, dv.storage_type);
      if (key == "pathOrInlineDv") return GetString(child, dv.path_or_inline_dv);
      if (key == "offset") {
        std::optional<int64_t> offset;
        TARN_RETURN_IF_ERROR(GetOptionalInt(child, offset));
        if (offset) dv.offset = static_cast<int32_t>(*offset);
        return Status::OK();
      }
      if (key == "sizeInBytes") {
        int64_t size = 0;
        TARN_RETURN_IF_ERROR(GetInt(child, size));
        dv.size_in_bytes = static_cast<int32_t>(size);
        return Status::OK();
      }
      if (key == "cardinality") return GetInt(child, dv.cardinality);
      if (key == "maxRowIndex") return GetOptionalInt(child, dv.max_row_index);
      return Status::OK();
    });
  }

  Status ParseAdd(od::value& value) {
    AddAction& a = add_;
    a.path.clear();
    a.size = 0;
    a.modification_time = 0;
    a.data_change = true;
    a.stats.reset();
    a.deletion_vector.reset();
    a.base_row_id.reset();
    a.default_row_commit_version.reset();
    a.clustering_provider.reset();
    bool saw_partitions = false;
    bool saw_tags = false;
    TARN_RETURN_IF_ERROR(ForEachField(value, [&](std::string_view key, od::value& child) -> Status {
      if (key == "path") return GetString(child, a.path);
      if (key == "partitionValues") {
        saw_partitions = true;
        return GetMap(child, a.partition_values);
      }
      if (key == "size") return GetInt(child, a.size);
      if (key == "modificationTime") return GetInt(child, a.modification_time);
      if (key == "dataChange") return GetBool(child, a.data_change);
      if (key == "stats") return GetOptionalString(child, a.stats);
      if (key == "tags") {
        saw_tags = true;
        return GetMap(child, a.tags);
      }
      if (key == "deletionVector") return ParseDeletionVector(child, a.deletion_vector);
      if (key == "baseRowId") return GetOptionalInt(child, a.base_row_id);
      if (key == "defaultRowCommitVersion") return GetOptionalInt(child, a.default_row_commit_version);
      if (key == "clusteringProvider") return GetOptionalString(child, a.clustering_provider);
      return Status::OK();
    }));
    if (!saw_partitions) a.partition_values.clear();
    if (!saw_tags) a.tags.clear();
    if (a.path.empty()) return Error(ErrorCode::kCorruptData, "add action without a path");
    return Status::OK();
  }

  Status ParseRemove(od::value& value) {
    RemoveAction& r = remove_;
    r.path.clear();
    r.deletion_timestamp.reset();
    r.data_change = true;
    r.extended_file_metadata = false;
    r.size.reset();
    r.stats.reset();
    r.deletion_vector.reset();
    r.base_row_id.reset();
    r.default_row_commit_version.reset();
    bool saw_partitions = false;
    bool saw_tags = false;
    TARN_RETURN_IF_ERROR(ForEachField(value, [&](std::string_view key, od::value& child) -> Status {
      if (key == "path") return GetString(child, r.path);
      if (key == "deletionTimestamp") return GetOptionalInt(child, r.deletion_timestamp);
      if (key == "dataChange") return GetBool(child, r.data_change);
      if (key == "extendedFileMetadata") return GetBool(child, r.extended_file_metadata);
      if (key == "partitionValues") {
        saw_partitions = true;
        return GetMap(child, r.partition_values);
      }
      if (key == "size") return GetOptionalInt(child, r.size);
      if (key == "stats") return GetOptionalString(child, r.stats);
      if (key == "tags") {
        saw_tags = true;
        return GetMap(child, r.tags);
      }
      if (key == "deletionVector") return ParseDeletionVector(child, r.deletion_vector);
      if (key == "baseRowId") return GetOptionalInt(child, r.base_row_id);
      if (key == "defaultRowCommitVersion") return GetOptionalInt(child, r.default_row_commit_version);
      return Status::OK();
    }));
    if (!saw_partitions) r.partition_values.clear();
    if (!saw_tags) r.tags.clear();
    if (r.path.empty()) return Error(ErrorCode::kCorruptData, "remove action without a path");
    return Status::OK();
  }

  static Status ParseMetadata(od::value& value, MetadataAction& m) {
    return ForEachField(value, [&](std::string_view key, od::value& child) -> Status {
      if (key == "id") return GetString(child, m.id);
      if (key == "name") return GetOptionalString(child, m.name);
      if (key == "description") return GetOptionalString(child, m.description);
      if (key == "schemaString") return GetString(child, m.schema_string);
      if (key == "createdTime") return GetOptionalInt(child, m.created_time);
      if (key == "partitionColumns") return GetStringArray(child, m.partition_columns);
      if (key == "configuration") return GetStringMap(child, m.configuration);
      if (key == "format") {
        return ForEachField(child, [&](std::string_view format_key, od::value& format_value) -> Status {
          if (format_key == "provider") return GetString(format_value, m.format_provider);
          if (format_key == "options") return GetStringMap(format_value, m.format_options);
          return Status::OK();
        });
      }
      return Status::OK();
    });
  }

  static Status ParseProtocol(od::value& value, ProtocolAction& p) {
    return ForEachField(value, [&](std::string_view key, od::value& child) -> Status {
      int64_t number = 0;
      if (key == "minReaderVersion") {
        TARN_RETURN_IF_ERROR(GetInt(child, number));
        p.min_reader_version = static_cast<int32_t>(number);
      } else if (key == "minWriterVersion") {
        TARN_RETURN_IF_ERROR(GetInt(child, number));
        p.min_writer_version = static_cast<int32_t>(number);
      } else if (key == "readerFeatures" || key == "writerFeatures") {
        bool is_null = false;
        TARN_RETURN_IF_ERROR(IsNull(child, is_null));
        if (is_null) return Status::OK();
        auto& target = key == "readerFeatures" ? p.reader_features : p.writer_features;
        target.emplace();
        return GetStringArray(child, *target);
      }
      return Status::OK();
    });
  }

  static Status ParseTxn(od::value& value, TxnAction& t) {
    return ForEachField(value, [&](std::string_view key, od::value& child) -> Status {
      if (key == "appId") return GetString(child, t.app_id);
      if (key == "version") return GetInt(child, t.version);
      if (key == "lastUpdated") return GetOptionalInt(child, t.last_updated);
      return Status::OK();
    });
  }

  static Status ParseCommitInfo(od::value& value, CommitInfoAction& c) {
    std::string_view raw;
    // raw_json consumes the value; re-parsing the small object is cheaper than walking it twice by hand.
    od::object object;
    if (auto error = value.get_object().get(object)) return Fail(error);
    if (auto error = object.raw_json().get(raw)) return Fail(error);
    c.raw_json.assign(raw.data(), raw.size());
    simdjson::padded_string padded(raw);
    od::parser parser;
    od::document doc;
    if (auto error = parser.iterate(padded).get(doc)) return Fail(error);
    od::value root;
    if (auto error = doc.get_value().get(root)) return Fail(error);
    return ForEachField(root, [&](std::string_view key, od::value& child) -> Status {
      if (key == "timestamp") return GetOptionalInt(child, c.timestamp);
      if (key == "inCommitTimestamp") return GetOptionalInt(child, c.in_commit_timestamp);
      if (key == "operation") return GetOptionalString(child, c.operation);
      if (key == "readVersion") return GetOptionalInt(child, c.read_version);
      if (key == "txnId") return GetOptionalString(child, c.txn_id);
      if (key == "isBlindAppend") {
        bool is_null = false;
        TARN_RETURN_IF_ERROR(IsNull(child, is_null));
        if (is_null) return Status::OK();
        bool b = false;
        if (auto error = child.get_bool().get(b)) return Fail(error);
        c.is_blind_append = b;
      }
      return Status::OK();
    });
  }

  static Status ParseCdc(od::value& value, CdcAction& c) {
    return ForEachField(value, [&](std::string_view key, od::value& child) -> Status {
      if (key == "path") return GetString(child, c.path);
      if (key == "partitionValues") return GetMap(child, c.partition_values);
      if (key == "size") return GetInt(child, c.size);
      if (key == "dataChange") return GetBool(child, c.data_change);
      if (key == "tags") return GetMap(child, c.tags);
      return Status::OK();
    });
  }

  static Status ParseDomainMetadata(od::value& value, DomainMetadataAction& d) {
    return ForEachField(value, [&](std::string_view key, od::value& child) -> Status {
      if (key == "domain") return GetString(child, d.domain);
      if (key == "configuration") return GetString(child, d.configuration);
      if (key == "removed") return GetBool(child, d.removed);
      return Status::OK();
    });
  }

  static Status ParseCheckpointMetadata(od::value& value, CheckpointMetadataAction& c) {
    return ForEachField(value, [&](std::string_view key, od::value& child) -> Status {
      if (key == "version") return GetInt(child, c.version);
      if (key == "tags") return GetMap(child, c.tags);
      return Status::OK();
    });
  }

  static Status ParseSidecar(od::value& value, SidecarAction& s) {
    return ForEachField(value, [&](std::string_view key, od::value& child) -> Status {
      if (key == "path") return GetString(child, s.path);
      if (key == "sizeInBytes") return GetInt(child, s.size_in_bytes);
      if (key == "modificationTime") return GetInt(child, s.modification_time);
      if (key == "tags") return GetMap(child, s.tags);
      return Status::OK();
    });
  }

  od::parser parser_;
  AddAction add_;
  RemoveAction remove_;
};

// Collects actions into values.
class CollectingVisitor final : public ActionVisitor {
 public:
  explicit CollectingVisitor(std::vector<Action>& out) : out_(out) {}
  Status OnProtocol(const ProtocolAction& a) override { return Add(a); }
  Status OnMetadata(const MetadataAction& a) override { return Add(a); }
  Status OnAdd(const AddAction& a) override { return Add(a); }
  Status OnRemove(const RemoveAction& a) override { return Add(a); }
  Status OnCdc(const CdcAction& a) override { return Add(a); }
  Status OnTxn(const TxnAction& a) override { return Add(a); }
  Status OnCommitInfo(const CommitInfoAction& a) override { return Add(a); }
  Status OnDomainMetadata(const DomainMetadataAction& a) override { return Add(a); }
  Status OnCheckpointMetadata(const CheckpointMetadataAction& a) override { return Add(a); }
  Status OnSidecar(const SidecarAction& a) override { return Add(a); }

 private:
  template <typename T>
  Status Add(const T& action) {
    out_.emplace_back(action);
    return Status::OK();
  }
  std::vector<Action>& out_;
};

bool IsBlank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

}  // namespace

std::string DeletionVectorDescriptor::UniqueId() const {
  std::string id = storage_type + path_or_inline_dv;
  if (offset) id += "@" + std::to_string(*offset);
  return id;
}

Status ReadJsonActions(std::string_view content, std::string_view source, ActionVisitor& visitor) {
  int64_t line_number = 0;
  return ReadJsonActions(content, source, visitor, line_number);
}

Status ReadJsonActions(std::string_view content, std::string_view source, ActionVisitor& visitor,
                       int64_t& line_number) {
  LineParser parser;
  simdjson::padded_string tail_buffer;
  const char* base = content.data();
  size_t total = content.size();
  size_t pos = 0;
  while (pos < total) {
    const void* newline = std::memchr(base + pos, '\n', total - pos);
    size_t end = newline ? static_cast<size_t>(static_cast<const char*>(newline) - base) : total;
    ++line_number;
    std::string_view line(base + pos, end - pos);
    pos = end + 1;
    if (IsBlank(line)) continue;
    Status st;
    // simdjson reads up to SIMDJSON_PADDING bytes past the end: lines far enough from the end of the buffer are parsed
    // in place, the last ones are copied into a padded buffer.
    size_t readable = total - static_cast<size_t>(line.data() - base);
    if (readable >= line.size() + simdjson::SIMDJSON_PADDING) {
      st = parser.ParseLine(simdjson::padded_string_view(line.data(), line.size(), readable), visitor);
    } else {
      tail_buffer = simdjson::padded_string(line);
      st = parser.ParseLine(tail_buffer, visitor);
    }
    if (!st.ok()) {
      if (st.code() == ErrorCode::kCorruptData) return st.WithContext("{} line {}", source, line_number);
      return st;
    }
  }
  return Status::OK();
}

Result<std::vector<Action>> ParseJsonActions(std::string_view content, std::string_view source) {
  std::vector<Action> actions;
  CollectingVisitor visitor(actions);
  TARN_RETURN_IF_ERROR(ReadJsonActions(content, source, visitor));
  return actions;
}

std::optional<std::optional<std::string>> FindMapEntry(const std::vector<MapEntry>& entries, std::string_view key) {
  for (const auto& entry : entries) {
    if (entry.key == key) return entry.value;
  }
  return std::nullopt;
}

}  // namespace tarn::delta
