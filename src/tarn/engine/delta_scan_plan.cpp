// SPDX-License-Identifier: Apache-2.0
// DeltaScanPlan: file lists, partition constants, stats-based file skipping and the SQL over read_parquet.
#include "tarn/engine/delta_scan_plan.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>

#include "tarn/delta/partition_value.hpp"
#include "tarn/engine/deletion_vector.hpp"
#include "tarn/engine/sql_quoting.hpp"
#include "tarn/storage/storage_path.hpp"

namespace tarn::engine {
namespace {

using delta::DataType;
using delta::Scalar;
using delta::TypeKind;

constexpr char kFieldSeparator = '\x1f';
constexpr char kRecordSeparator = '\x1e';
// Spark truncates string statistics to this many characters; a max that long may be below the real max.
constexpr size_t kStatsStringPrefixLength = 32;
// Spark truncates timestamp statistics to milliseconds, so a max may be up to 999 microseconds low.
constexpr int64_t kTimestampStatsSlackMicros = 999;

// Howard Hinnant's civil_from_days.
void CivilFromDays(int64_t days, int64_t& year, unsigned& month, unsigned& day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<int64_t>(yoe) + era * 400 + (month <= 2);
}

std::string FormatMicros(int64_t micros, bool with_zone) {
  int64_t days = micros >= 0 ? micros / 86400000000LL : -((-micros + 86399999999LL) / 86400000000LL);
  int64_t rest = micros - days * 86400000000LL;
  int64_t year = 0;
  unsigned month = 0, day = 0;
  CivilFromDays(days, year, month, day);
  int64_t seconds = rest / 1000000;
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}{}", year, month, day, seconds / 3600,
                     (seconds / 60) % 60, seconds % 60, rest % 1000000, with_zone ? "+00" : "");
}

// Text of a partition value that CAST(... AS <type>) turns into the right value; nullopt for null.
Result<std::optional<std::string>> PartitionText(std::optional<std::string_view> raw, const DataType& type) {
  TARN_ASSIGN_OR_RETURN(Scalar scalar, delta::ParsePartitionValue(raw, type));
  if (scalar.is_null) return std::optional<std::string>();
  if (type.kind() == TypeKind::kTimestamp || type.kind() == TypeKind::kTimestampNtz) {
    return std::optional<std::string>(FormatMicros(scalar.int_value, type.kind() == TypeKind::kTimestamp));
  }
  return std::optional<std::string>(std::string(*raw));
}

// Absolute local path of a (percent-decoded) data file path: relative to the root, absolute, or a file: URI.
std::string JoinPath(const std::string& root, std::string_view path) {
  if (path.starts_with("file://")) path.remove_prefix(7);
  else if (path.starts_with("file:")) path.remove_prefix(5);
  if (path.starts_with("/")) return std::string(path);
  return root + "/" + std::string(path);
}

// Absolute local path of a data file path as written in an action (URI-encoded, relative or absolute).
Result<std::string> ActionPath(const std::string& root, std::string_view raw) {
  TARN_ASSIGN_OR_RETURN(std::string decoded, storage::PercentDecode(raw));
  return JoinPath(root, decoded);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// ---- file skipping ----

// <0, 0, >0 like strcmp; nullopt when the values cannot be compared.
std::optional<int> CompareScalars(const Scalar& a, const Scalar& b) {
  if (a.is_null || b.is_null || a.kind != b.kind) return std::nullopt;
  auto sign = [](auto x, auto y) { return x < y ? -1 : (x > y ? 1 : 0); };
  switch (a.kind) {
    case TypeKind::kByte:
    case TypeKind::kShort:
    case TypeKind::kInteger:
    case TypeKind::kLong:
    case TypeKind::kDate:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz:
      return sign(a.int_value, b.int_value);
    case TypeKind::kDecimal:
      if (a.scale != b.scale) return std::nullopt;
      return sign(a.decimal_unscaled, b.decimal_unscaled);
    case TypeKind::kString:
      return sign(a.string_value.compare(b.string_value), 0);
    case TypeKind::kBoolean:
      return sign(a.bool_value, b.bool_value);
    default:
      return std::nullopt;  // floats (NaN ordering), binary: never used for skipping
  }
}

std::optional<Scalar> ParseLiteral(std::string_view text, const DataType& type) {
  auto parsed = delta::ParsePartitionValue(text, type);
  if (!parsed.has_value() || parsed->is_null) return std::nullopt;
  return std::move(parsed).value();
}

std::optional<Scalar> StatsValue(const nlohmann::json& value, const DataType& type) {
  if (value.is_null()) return std::nullopt;
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  return ParseLiteral(text, type);
}

// True when a row with value `v` can satisfy `op literal`.
bool ValueMatches(const Scalar& v, const std::string& op, const Scalar& literal) {
  auto cmp = CompareScalars(v, literal);
  if (!cmp) return true;
  if (op == "=") return *cmp == 0;
  if (op == "<>") return *cmp != 0;
  if (op == "<") return *cmp < 0;
  if (op == "<=") return *cmp <= 0;
  if (op == ">") return *cmp > 0;
  if (op == ">=") return *cmp >= 0;
  return true;
}

// True when some value in [min, max] can satisfy `op literal` (either bound may be unknown).
bool RangeMatches(const std::optional<Scalar>& min, const std::optional<Scalar>& max, const std::string& op,
                  const Scalar& literal) {
  // cmp = bound <=> literal; "known" is false when the bound is missing or not comparable.
  auto compare = [&](const std::optional<Scalar>& bound, int& cmp) {
    std::optional<int> result = bound ? CompareScalars(*bound, literal) : std::nullopt;
    cmp = result.value_or(0);
    return result.has_value();
  };
  int cmp_min = 0;
  int cmp_max = 0;
  bool has_min = compare(min, cmp_min);
  bool has_max = compare(max, cmp_max);
  if (op == "=") return !(has_min && cmp_min > 0) && !(has_max && cmp_max < 0);
  if (op == "<") return !(has_min && cmp_min >= 0);
  if (op == "<=") return !(has_min && cmp_min > 0);
  if (op == ">") return !(has_max && cmp_max <= 0);
  if (op == ">=") return !(has_max && cmp_max < 0);
  if (op == "<>") return !(has_min && has_max && cmp_min == 0 && cmp_max == 0);
  return true;
}

struct ResolvedPredicate {
  const ScanPredicate* predicate;
  const delta::StructField* field;
  bool is_partition;
  std::optional<Scalar> literal;
};

// Returns false when the file provably holds no row satisfying every predicate.
bool FileMayMatch(const delta::FileEntry& file, std::span<const ResolvedPredicate> predicates,
                  const nlohmann::json* stats) {
  for (const ResolvedPredicate& p : predicates) {
    const std::string& op = p.predicate->op;
    const DataType& type = *p.field->type;
    if (p.is_partition) {
      const delta::PartitionValueRef* ref = file.FindPartitionValue(p.field->PhysicalName());
      if (ref == nullptr) ref = file.FindPartitionValue(p.field->name);
      bool is_null = ref == nullptr || ref->is_null;
      if (op == "is_null") {
        if (!is_null) return false;
        continue;
      }
      if (op == "is_not_null") {
        if (is_null) return false;
        continue;
      }
      if (is_null) return false;  // a comparison with NULL is never true
      if (!p.literal) continue;
      auto value = ParseLiteral(ref->value, type);
      if (value && !ValueMatches(*value, op, *p.literal)) return false;
      continue;
    }
    if (stats == nullptr) continue;
    const std::string& name = p.field->PhysicalName();
    auto find = [&](const char* section) -> const nlohmann::json* {
      auto it = stats->find(section);
      if (it == stats->end() || !it->is_object()) return nullptr;
      auto value = it->find(name);
      return value == it->end() ? nullptr : &*value;
    };
    bool tight = !(stats->contains("tightBounds") && (*stats)["tightBounds"].is_boolean() &&
                   !(*stats)["tightBounds"].get<bool>());
    std::optional<int64_t> num_records;
    if (auto it = stats->find("numRecords"); it != stats->end() && it->is_number_integer()) {
      num_records = it->get<int64_t>();
    }
    std::optional<int64_t> null_count;
    if (const nlohmann::json* n = find("nullCount"); n != nullptr && n->is_number_integer()) {
      null_count = n->get<int64_t>();
    }
    if (op == "is_null") {
      if (tight && null_count && *null_count == 0) return false;
      continue;
    }
    bool all_null = tight && null_count && num_records && *null_count == *num_records;
    if (op == "is_not_null") {
      if (all_null) return false;
      continue;
    }
    if (all_null && *num_records > 0) return false;
    if (!p.literal) continue;
    const nlohmann::json* min_json = find("minValues");
    const nlohmann::json* max_json = find("maxValues");
    std::optional<Scalar> min = min_json ? StatsValue(*min_json, type) : std::nullopt;
    std::optional<Scalar> max = max_json ? StatsValue(*max_json, type) : std::nullopt;
    if (max && (type.kind() == TypeKind::kTimestamp || type.kind() == TypeKind::kTimestampNtz)) {
      max->int_value += kTimestampStatsSlackMicros;
    }
    if (max && type.kind() == TypeKind::kString && max->string_value.size() >= kStatsStringPrefixLength) {
      max.reset();
    }
    if (!RangeMatches(min, max, op, *p.literal)) return false;
  }
  return true;
}

// ---- SQL generation ----

std::string NullOf(const DataType& type) { return "CAST(NULL AS " + DuckTypeOf(type) + ")"; }

const ChildType* FindPhysicalChild(const std::vector<ChildType>& children, const delta::StructField& field) {
  for (const ChildType& c : children) {
    if (c.name == field.PhysicalName()) return &c;
  }
  for (const ChildType& c : children) {
    if (EqualsIgnoreCase(c.name, field.PhysicalName())) return &c;
  }
  if (field.physical_name) {
    for (const ChildType& c : children) {
      if (EqualsIgnoreCase(c.name, field.name)) return &c;
    }
  }
  return nullptr;
}

// Expression converting `src` (of Parquet type `physical`, nullptr when absent) to the Delta type `type` with
// logical field names.
std::string Convert(const std::string& src, const DataType& type, const LogicalType* physical, int depth) {
  if (physical == nullptr) return NullOf(type);
  switch (type.kind()) {
    case TypeKind::kStruct: {
      if (physical->id != TypeId::kStruct) return NullOf(type);
      std::string fields;
      for (const delta::StructField& field : type.fields()) {
        const ChildType* child = FindPhysicalChild(physical->children, field);
        std::string child_src = child ? src + "." + QuoteSqlIdentifier(child->name) : std::string();
        if (!fields.empty()) fields += ", ";
        fields += QuoteSqlIdentifier(field.name) + " := " +
                  Convert(child_src, *field.type, child ? &child->type : nullptr, depth + 1);
      }
      if (fields.empty()) return NullOf(type);
      return "CASE WHEN " + src + " IS NULL THEN NULL ELSE struct_pack(" + fields + ") END";
    }
    case TypeKind::kArray: {
      if (physical->id != TypeId::kList || physical->children.empty()) return NullOf(type);
      if (type.element_type()->is_primitive() && type.element_type()->kind() != TypeKind::kVariant) {
        return "CAST(" + src + " AS " + DuckTypeOf(type) + ")";
      }
      std::string var = "x" + std::to_string(depth);
      return "list_transform(" + src + ", lambda " + var + ": " +
             Convert(var, *type.element_type(), &physical->children[0].type, depth + 1) + ")";
    }
    case TypeKind::kMap: {
      if (physical->id != TypeId::kMap || physical->children.size() != 2) return NullOf(type);
      if (type.key_type()->is_primitive() && type.value_type()->is_primitive() &&
          type.value_type()->kind() != TypeKind::kVariant) {
        return "CAST(" + src + " AS " + DuckTypeOf(type) + ")";
      }
      std::string var = "e" + std::to_string(depth);
      return "map_from_entries(list_transform(map_entries(" + src + "), lambda " + var + ": {'key': " +
             Convert(var + ".key", *type.key_type(), &physical->children[0].type, depth + 1) + ", 'value': " +
             Convert(var + ".value", *type.value_type(), &physical->children[1].type, depth + 1) + "}))";
    }
    case TypeKind::kVariant:
      return src;  // read as the raw struct<value, metadata> Parquet holds
    case TypeKind::kVoid:
      return NullOf(type);
    case TypeKind::kTimestamp:
      // Zone-less Parquet timestamps (INT96, isAdjustedToUTC=false) hold UTC wall clock: read them as UTC whatever
      // the session's TimeZone is.
      if (physical->id == TypeId::kTimestamp || physical->id == TypeId::kTimestampNs ||
          physical->id == TypeId::kTimestampMs || physical->id == TypeId::kTimestampS) {
        return "timezone('UTC', CAST(" + src + " AS TIMESTAMP))";
      }
      return "CAST(" + src + " AS " + DuckTypeOf(type) + ")";
    default:
      return "CAST(" + src + " AS " + DuckTypeOf(type) + ")";
  }
}

std::string ListLiteral(const std::vector<ScanFile>& files, size_t value_index) {
  std::string out = "([";
  for (size_t i = 0; i < files.size(); i++) {
    if (i > 0) out += ", ";
    const auto& value = files[i].values[value_index];
    out += value ? QuoteSqlString(*value) : "NULL";
  }
  out += "]::VARCHAR[])";
  return out;
}

}  // namespace

std::string DuckTypeOf(const DataType& type) {
  switch (type.kind()) {
    case TypeKind::kString: return "VARCHAR";
    case TypeKind::kLong: return "BIGINT";
    case TypeKind::kInteger: return "INTEGER";
    case TypeKind::kShort: return "SMALLINT";
    case TypeKind::kByte: return "TINYINT";
    case TypeKind::kFloat: return "FLOAT";
    case TypeKind::kDouble: return "DOUBLE";
    case TypeKind::kBoolean: return "BOOLEAN";
    case TypeKind::kBinary: return "BLOB";
    case TypeKind::kDate: return "DATE";
    case TypeKind::kTimestamp: return "TIMESTAMP WITH TIME ZONE";
    case TypeKind::kTimestampNtz: return "TIMESTAMP";
    case TypeKind::kDecimal: return fmt::format("DECIMAL({},{})", type.precision(), type.scale());
    case TypeKind::kVoid: return "INTEGER";
    case TypeKind::kVariant: return "STRUCT(\"value\" BLOB, \"metadata\" BLOB)";
    case TypeKind::kStruct: {
      std::string out = "STRUCT(";
      for (size_t i = 0; i < type.fields().size(); i++) {
        if (i > 0) out += ", ";
        out += QuoteSqlIdentifier(type.fields()[i].name) + " " + DuckTypeOf(*type.fields()[i].type);
      }
      return out + ")";
    }
    case TypeKind::kArray: return DuckTypeOf(*type.element_type()) + "[]";
    case TypeKind::kMap: return "MAP(" + DuckTypeOf(*type.key_type()) + ", " + DuckTypeOf(*type.value_type()) + ")";
  }
  return "VARCHAR";
}

std::vector<ScanPredicate> DecodeScanPredicates(std::string_view text) {
  std::vector<ScanPredicate> out;
  while (!text.empty()) {
    size_t end = text.find(kRecordSeparator);
    std::string_view record = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    size_t a = record.find(kFieldSeparator);
    if (a == std::string_view::npos) continue;
    size_t b = record.find(kFieldSeparator, a + 1);
    if (b == std::string_view::npos) continue;
    out.push_back({std::string(record.substr(0, a)), std::string(record.substr(a + 1, b - a - 1)),
                   std::string(record.substr(b + 1))});
  }
  return out;
}

std::string EncodeScanPredicates(std::span<const ScanPredicate> predicates) {
  std::string out;
  for (const ScanPredicate& p : predicates) {
    if (!out.empty()) out += kRecordSeparator;
    out += p.column + kFieldSeparator + p.op + kFieldSeparator + p.literal;
  }
  return out;
}

bool RowFilter::Passes(uint64_t row) const {
  if (keep && !std::binary_search(keep->begin(), keep->end(), row)) return false;
  return !std::binary_search(drop.begin(), drop.end(), row);
}

Result<std::shared_ptr<const DeltaScanPlan>> DeltaScanPlan::ForSnapshot(const DeltaTable& table,
                                                                        std::span<const ScanPredicate> predicates) {
  auto plan = std::shared_ptr<DeltaScanPlan>(new DeltaScanPlan());
  plan->store_ = table.store;
  const delta::Snapshot& snapshot = *table.snapshot;
  plan->schema_ = std::make_shared<delta::Schema>(snapshot.schema());
  const std::vector<std::string>& partition_columns = snapshot.partition_columns();
  std::vector<const delta::StructField*> partition_fields;
  for (const delta::StructField& field : plan->schema_->fields()) {
    ScanColumn column;
    column.name = field.name;
    column.sql_type = DuckTypeOf(*field.type);
    column.field = &field;
    bool is_partition = std::any_of(partition_columns.begin(), partition_columns.end(),
                                    [&](const std::string& p) { return EqualsIgnoreCase(p, field.name); });
    if (is_partition) {
      column.kind = ScanColumn::Kind::kPartition;
      column.value_index = partition_fields.size();
      partition_fields.push_back(&field);
    }
    plan->columns_.push_back(std::move(column));
  }

  std::vector<ResolvedPredicate> resolved;
  for (const ScanPredicate& p : predicates) {
    const delta::StructField* field = plan->schema_->FindField(p.column);
    if (field == nullptr || !field->type->is_primitive()) continue;
    bool is_partition = std::any_of(partition_fields.begin(), partition_fields.end(),
                                    [&](const delta::StructField* f) { return f == field; });
    std::optional<Scalar> literal;
    if (p.op != "is_null" && p.op != "is_not_null") {
      literal = ParseLiteral(p.literal, *field->type);
      if (!literal) continue;
    }
    resolved.push_back({&p, field, is_partition, std::move(literal)});
  }

  for (const delta::FileEntry& file : snapshot.active_files()) {
    nlohmann::json stats;
    bool have_stats = false;
    if (!file.stats.empty()) {
      stats = nlohmann::json::parse(file.stats, nullptr, /*allow_exceptions=*/false);
      have_stats = stats.is_object();
    }
    if (!resolved.empty() && !FileMayMatch(file, resolved, have_stats ? &stats : nullptr)) {
      plan->num_skipped_files_++;
      continue;
    }
    ScanFile scan_file;
    scan_file.path = JoinPath(table.root, file.path);  // snapshot paths are already percent-decoded
    for (const delta::StructField* field : partition_fields) {
      const delta::PartitionValueRef* ref = file.FindPartitionValue(field->PhysicalName());
      if (ref == nullptr) ref = file.FindPartitionValue(field->name);
      std::optional<std::string_view> raw;
      if (ref != nullptr && !ref->is_null) raw = ref->value;
      auto text = PartitionText(raw, *field->type);
      if (!text.has_value()) {
        return text.status().WithContext("{} version {} file {}", table.root, snapshot.version(), file.path);
      }
      scan_file.values.push_back(std::move(text).value());
    }
    if (file.deletion_vector != nullptr) {
      const delta::DeletionVectorRef& dv = *file.deletion_vector;
      delta::DeletionVectorDescriptor descriptor;
      descriptor.storage_type = std::string(1, dv.storage_type);
      descriptor.path_or_inline_dv = std::string(dv.path_or_inline_dv);
      descriptor.offset = dv.offset;
      descriptor.size_in_bytes = dv.size_in_bytes;
      descriptor.cardinality = dv.cardinality;
      scan_file.drop_rows = std::move(descriptor);
    }
    if (have_stats) {
      if (auto it = stats.find("numRecords"); it != stats.end() && it->is_number_integer()) {
        scan_file.num_records = it->get<int64_t>();
        if (file.deletion_vector != nullptr) scan_file.num_records -= file.deletion_vector->cardinality;
      }
    }
    plan->files_.push_back(std::move(scan_file));
  }
  return std::shared_ptr<const DeltaScanPlan>(std::move(plan));
}

Result<std::shared_ptr<const DeltaScanPlan>> DeltaScanPlan::ForChanges(DeltaTableLoader& loader,
                                                                       std::string_view location, int64_t start,
                                                                       std::optional<int64_t> end) {
  if (start < 0) return Error(ErrorCode::kInvalidParameterValue, "table_changes start version must be >= 0, got {}", start);
  TARN_ASSIGN_OR_RETURN(DeltaTable table, loader.Load({std::string(location), end, std::nullopt}));
  int64_t end_version = table.snapshot->version();
  if (start > end_version) {
    return Error(ErrorCode::kInvalidParameterValue, "table_changes start version {} is after end version {} of {}",
                 start, end_version, table.root);
  }
  TARN_ASSIGN_OR_RETURN(DeltaTableLog opened, loader.OpenLog(location));
  TARN_ASSIGN_OR_RETURN(auto timestamps, opened.log->CommitTimestamps());
  std::map<int64_t, int64_t> timestamp_of(timestamps.begin(), timestamps.end());

  auto plan = std::shared_ptr<DeltaScanPlan>(new DeltaScanPlan());
  plan->store_ = table.store;
  plan->schema_ = std::make_shared<delta::Schema>(table.snapshot->schema());
  const std::vector<std::string>& partition_columns = table.snapshot->partition_columns();
  std::vector<const delta::StructField*> partition_fields;
  for (const delta::StructField& field : plan->schema_->fields()) {
    ScanColumn column{field.name, DuckTypeOf(*field.type), ScanColumn::Kind::kData, &field, 0, ""};
    if (std::any_of(partition_columns.begin(), partition_columns.end(),
                    [&](const std::string& p) { return EqualsIgnoreCase(p, field.name); })) {
      column.kind = ScanColumn::Kind::kPartition;
      column.value_index = partition_fields.size();
      partition_fields.push_back(&field);
    }
    plan->columns_.push_back(std::move(column));
  }
  size_t base = partition_fields.size();
  plan->columns_.push_back({"_change_type", "VARCHAR", ScanColumn::Kind::kConstant, nullptr, base, "_change_type"});
  plan->columns_.push_back({"_commit_version", "BIGINT", ScanColumn::Kind::kConstant, nullptr, base + 1, ""});
  plan->columns_.push_back(
      {"_commit_timestamp", "TIMESTAMP WITH TIME ZONE", ScanColumn::Kind::kConstant, nullptr, base + 2, ""});

  auto make_file = [&](std::string_view raw_path, const std::vector<delta::MapEntry>& partition_values,
                       std::optional<std::string> change_type, int64_t version) -> Result<ScanFile> {
    ScanFile file;
    TARN_ASSIGN_OR_RETURN(file.path, ActionPath(table.root, raw_path));
    for (const delta::StructField* field : partition_fields) {
      auto value = delta::FindMapEntry(partition_values, field->PhysicalName());
      if (!value) value = delta::FindMapEntry(partition_values, field->name);
      std::optional<std::string_view> raw;
      if (value && *value) raw = **value;
      TARN_ASSIGN_OR_RETURN(auto text, PartitionText(raw, *field->type));
      file.values.push_back(std::move(text));
    }
    file.values.push_back(std::move(change_type));
    file.values.push_back(std::to_string(version));
    auto ts = timestamp_of.find(version);
    file.values.push_back(ts == timestamp_of.end() ? std::optional<std::string>()
                                                   : std::optional<std::string>(FormatMicros(ts->second * 1000, true)));
    return file;
  };

  for (int64_t version = start; version <= end_version; version++) {
    std::string key = "_delta_log/" + delta::VersionStem(version) + ".json";
    auto content = table.store->Read(key);
    if (!content.has_value()) {
      return Error(ErrorCode::kInvalidParameterValue, "table_changes: commit {} of {} is no longer in the log", version,
                   table.root);
    }
    TARN_ASSIGN_OR_RETURN(std::vector<delta::Action> actions,
                          delta::ParseJsonActions(*content, fmt::format("{} version {}", table.root, version)));
    bool has_cdc = std::any_of(actions.begin(), actions.end(),
                               [](const delta::Action& a) { return std::holds_alternative<delta::CdcAction>(a); });
    if (has_cdc) {
      for (const delta::Action& action : actions) {
        if (const auto* cdc = std::get_if<delta::CdcAction>(&action)) {
          TARN_ASSIGN_OR_RETURN(ScanFile file, make_file(cdc->path, cdc->partition_values, std::nullopt, version));
          plan->files_.push_back(std::move(file));
        }
      }
      continue;
    }
    std::map<std::string, const delta::RemoveAction*> removes;
    for (const delta::Action& action : actions) {
      if (const auto* remove = std::get_if<delta::RemoveAction>(&action); remove && remove->data_change) {
        removes[remove->path] = remove;
      }
    }
    for (const delta::Action& action : actions) {
      const auto* add = std::get_if<delta::AddAction>(&action);
      if (add == nullptr || !add->data_change) continue;
      auto paired = removes.find(add->path);
      if (paired != removes.end()) {
        // Same file re-committed with another deletion vector: rows the new DV adds are deletes, rows it no
        // longer holds (a restore) are inserts.
        const delta::RemoveAction* remove = paired->second;
        removes.erase(paired);
        if (add->deletion_vector) {
          TARN_ASSIGN_OR_RETURN(ScanFile file, make_file(add->path, add->partition_values, "delete", version));
          file.keep_rows = add->deletion_vector;
          file.drop_rows = remove->deletion_vector;
          plan->files_.push_back(std::move(file));
        }
        if (remove->deletion_vector) {
          TARN_ASSIGN_OR_RETURN(ScanFile file, make_file(add->path, add->partition_values, "insert", version));
          file.keep_rows = remove->deletion_vector;
          file.drop_rows = add->deletion_vector;
          plan->files_.push_back(std::move(file));
        }
        continue;
      }
      TARN_ASSIGN_OR_RETURN(ScanFile file, make_file(add->path, add->partition_values, "insert", version));
      file.drop_rows = add->deletion_vector;
      plan->files_.push_back(std::move(file));
    }
    for (const auto& [path, remove] : removes) {
      TARN_ASSIGN_OR_RETURN(ScanFile file, make_file(path, remove->partition_values, "delete", version));
      file.drop_rows = remove->deletion_vector;
      plan->files_.push_back(std::move(file));
    }
  }
  return std::shared_ptr<const DeltaScanPlan>(std::move(plan));
}

int64_t DeltaScanPlan::EstimatedRows() const {
  int64_t rows = 0;
  for (const ScanFile& file : files_) {
    if (file.num_records < 0) return -1;
    rows += file.num_records;
  }
  return rows;
}

bool DeltaScanPlan::NeedsRowFilter() const {
  return std::any_of(files_.begin(), files_.end(),
                     [](const ScanFile& f) { return f.drop_rows.has_value() || f.keep_rows.has_value(); });
}

std::string DeltaScanPlan::ReadParquetSql() const {
  std::string out = "read_parquet([";
  for (size_t i = 0; i < files_.size(); i++) {
    if (i > 0) out += ", ";
    out += QuoteSqlString(files_[i].path);
  }
  out += "], union_by_name = true, hive_partitioning = false)";
  return out;
}

std::string DeltaScanPlan::PhysicalSchemaSql() const {
  if (files_.empty()) return "";
  return "SELECT * FROM " + ReadParquetSql();
}

std::string DeltaScanPlan::BuildSql(std::span<const size_t> projection, const std::vector<Column>& physical,
                                    bool with_row_ids) const {
  bool no_files = files_.empty();
  std::string file_index = "(CAST(file_index AS BIGINT) + 1)";
  std::string select;
  auto append = [&](const std::string& expr) { select += (select.empty() ? "" : ", ") + expr; };
  for (size_t index : projection) {
    if (index >= columns_.size()) {
      append("CAST(NULL AS BIGINT)");
      continue;
    }
    const ScanColumn& column = columns_[index];
    std::string expr;
    if (no_files) {
      expr = "CAST(NULL AS " + column.sql_type + ")";
    } else if (column.kind == ScanColumn::Kind::kData) {
      const Column* source = nullptr;
      for (const Column& c : physical) {
        if (c.name == column.field->PhysicalName()) source = &c;
      }
      for (size_t i = 0; source == nullptr && i < physical.size(); i++) {
        if (EqualsIgnoreCase(physical[i].name, column.field->PhysicalName())) source = &physical[i];
      }
      expr = Convert(source ? QuoteSqlIdentifier(source->name) : std::string(), *column.field->type,
                     source ? &source->type : nullptr, 0);
    } else {
      std::string value = ListLiteral(files_, column.value_index) + "[" + file_index + "]";
      // Binary partition values are the UTF-8 text of their bytes (a CAST would demand \x escapes).
      expr = column.sql_type == "BLOB" ? "encode(" + value + ")" : "CAST(" + value + " AS " + column.sql_type + ")";
      if (!column.file_column.empty()) {
        for (const Column& c : physical) {
          if (c.name == column.file_column) {
            expr = "COALESCE(CAST(" + QuoteSqlIdentifier(c.name) + " AS " + column.sql_type + "), " + expr + ")";
          }
        }
      }
    }
    append(expr + " AS " + QuoteSqlIdentifier(column.name));
  }
  if (select.empty()) append("NULL AS __tarn_no_columns");
  if (no_files) return "SELECT " + select + " WHERE false";
  if (with_row_ids) {
    append("CAST(file_index AS BIGINT) AS __tarn_file, CAST(file_row_number AS BIGINT) AS __tarn_row");
  }
  return "SELECT " + select + " FROM " + ReadParquetSql();
}

Result<std::vector<std::optional<RowFilter>>> DeltaScanPlan::LoadRowFilters() const {
  std::vector<std::optional<RowFilter>> filters(files_.size());
  auto load = [&](const delta::DeletionVectorDescriptor& descriptor) -> Result<std::vector<uint64_t>> {
    delta::DeletionVectorRef ref;
    ref.storage_type = descriptor.storage_type.empty() ? 'u' : descriptor.storage_type[0];
    ref.path_or_inline_dv = descriptor.path_or_inline_dv;
    ref.offset = descriptor.offset;
    ref.size_in_bytes = descriptor.size_in_bytes;
    ref.cardinality = descriptor.cardinality;
    return LoadDeletionVector(*store_, "", ref);
  };
  for (size_t i = 0; i < files_.size(); i++) {
    const ScanFile& file = files_[i];
    if (!file.drop_rows && !file.keep_rows) continue;
    RowFilter filter;
    if (file.drop_rows) {
      auto rows = load(*file.drop_rows);
      if (!rows.has_value()) return rows.status().WithContext("deletion vector of {}", file.path);
      filter.drop = std::move(rows).value();
    }
    if (file.keep_rows) {
      auto rows = load(*file.keep_rows);
      if (!rows.has_value()) return rows.status().WithContext("deletion vector of {}", file.path);
      filter.keep = std::move(rows).value();
    }
    filters[i] = std::move(filter);
  }
  return filters;
}

}  // namespace tarn::engine
