// SPDX-License-Identifier: Apache-2.0
// Statement Execution API and SQL warehouses routes: request validation, response shapes, links, errors.
#include "tarn/api/sql_statements_routes.hpp"

#include "api_test_env.hpp"
#include "sql_warehouse_env.hpp"

namespace tarn::api {
namespace {

using nlohmann::json;

class SqlStatementsRoutesTest : public ApiTestEnv {
 protected:
  SqlStatementsRoutesTest() {
    StatementManagerOptions options;
    options.chunk_rows = 2;
    manager_ = std::make_unique<StatementManager>(*sql_.warehouse, options);
    RegisterSqlStatementRoutes(router_, *manager_, {[] { return uint16_t{5433}; }});
  }

  http::Response Post(const std::string& path, const json& body, std::string auth = "USE_ADMIN") {
    return Call(http::Method::kPost, path, body.dump(), std::move(auth));
  }
  json Execute(json body) {
    if (!body.contains("warehouse_id")) body["warehouse_id"] = kBuiltinWarehouseId;
    auto response = Post("/api/2.0/sql/statements", body);
    EXPECT_EQ(response.status, 200) << response.body;
    return Json(response);
  }

  SqlWarehouseEnv sql_;
  std::unique_ptr<StatementManager> manager_;
};

TEST_F(SqlStatementsRoutesTest, ExecuteReturnsManifestAndFirstChunk) {
  json r = Execute({{"statement", "SELECT range AS id, 'x' || range AS s, NULL AS n FROM range(3)"},
                    {"wait_timeout", "30s"}});
  EXPECT_EQ(r["status"]["state"], "SUCCEEDED") << r.dump();
  std::string id = r["statement_id"];
  EXPECT_EQ(id.size(), 36u);
  const json& m = r["manifest"];
  EXPECT_EQ(m["format"], "JSON_ARRAY");
  EXPECT_EQ(m["schema"]["column_count"], 3);
  EXPECT_EQ(m["schema"]["columns"][0], (json{{"name", "id"}, {"position", 0}, {"type_name", "LONG"},
                                              {"type_text", "BIGINT"}}));
  EXPECT_EQ(m["total_chunk_count"], 2);
  EXPECT_EQ(m["total_row_count"], 3);
  EXPECT_EQ(m["truncated"], false);
  EXPECT_EQ(m["chunks"][1], (json{{"chunk_index", 1}, {"row_offset", 2}, {"row_count", 1}}));
  EXPECT_EQ(r["result"]["data_array"], (json{{"0", "x0", nullptr}, {"1", "x1", nullptr}}));
  EXPECT_EQ(r["result"]["next_chunk_index"], 1);
  EXPECT_EQ(r["result"]["next_chunk_internal_link"], "/api/2.0/sql/statements/" + id + "/result/chunks/1");

  auto chunk = Call(http::Method::kGet, "/api/2.0/sql/statements/" + id + "/result/chunks/1");
  ASSERT_EQ(chunk.status, 200) << chunk.body;
  json c = Json(chunk);
  EXPECT_EQ(c["data_array"], (json{{"2", "x2", nullptr}}));
  EXPECT_EQ(c["row_offset"], 2);
  EXPECT_FALSE(c.contains("next_chunk_index"));

  auto get = Call(http::Method::kGet, "/api/2.0/sql/statements/" + id);
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(Json(get)["manifest"], m);
  EXPECT_EQ(ErrorCodeOf(Call(http::Method::kGet, "/api/2.0/sql/statements/" + id + "/result/chunks/9")),
            "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(ErrorCodeOf(Call(http::Method::kGet, "/api/2.0/sql/statements/" + id + "/result/chunks/x")),
            "INVALID_PARAMETER_VALUE");
}

TEST_F(SqlStatementsRoutesTest, AsyncExecutionIsPolledUntilDone) {
  json r = Execute({{"statement", "SELECT 42 AS answer"}, {"wait_timeout", "0s"}});
  std::string id = r["statement_id"];
  std::string state = r["status"]["state"];
  EXPECT_TRUE(state == "PENDING" || state == "RUNNING" || state == "SUCCEEDED") << state;
  while (state == "PENDING" || state == "RUNNING") {
    r = Json(Call(http::Method::kGet, "/api/2.0/sql/statements/" + id));
    state = r["status"]["state"];
  }
  EXPECT_EQ(state, "SUCCEEDED");
  EXPECT_EQ(r["result"]["data_array"], (json{{"42"}}));
  EXPECT_EQ(Json(Post("/api/2.0/sql/statements/" + id + "/cancel", json::object())), json::object());
}

TEST_F(SqlStatementsRoutesTest, ExecuteDoesNotBlockWhenNoWaitSlotIsFree) {
  http::Router router;
  RegisterSqlStatementRoutes(router, *manager_, {[] { return uint16_t{5433}; }, /*max_blocking_waits=*/0});
  http::Request request;
  request.method = http::Method::kPost;
  request.path = request.target = "/api/2.0/sql/statements";
  request.user_id = admin_.id;
  request.user_name = admin_.user_name;
  request.body = json{{"statement", "SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b"},
                      {"warehouse_id", kBuiltinWarehouseId},
                      {"wait_timeout", "50s"}}
                     .dump();
  json r = Json(router.Dispatch(request));
  std::string state = r["status"]["state"];
  EXPECT_TRUE(state == "PENDING" || state == "RUNNING") << r.dump();
  std::string id = r["statement_id"];
  ASSERT_TRUE(manager_->Cancel(id, admin_.id).ok());
  while (state == "PENDING" || state == "RUNNING") {
    state = Json(Call(http::Method::kGet, "/api/2.0/sql/statements/" + id))["status"]["state"];
  }
  EXPECT_EQ(state, "CANCELED");
}

TEST_F(SqlStatementsRoutesTest, SqlErrorsAreHttp200WithStateFailed) {
  json r = Execute({{"statement", "SELECT * FROM missing_table"}, {"wait_timeout", "30s"}});
  EXPECT_EQ(r["status"]["state"], "FAILED");
  EXPECT_EQ(r["status"]["sql_state"], "42P01");
  EXPECT_EQ(r["status"]["error"]["error_code"], "BAD_REQUEST");
  std::string message = r["status"]["error"]["message"];
  EXPECT_EQ(message.rfind("[TABLE_OR_VIEW_NOT_FOUND]", 0), 0u) << message;
  EXPECT_NE(message.find("SQLSTATE: 42P01"), std::string::npos) << message;
  EXPECT_FALSE(r.contains("manifest"));
}

TEST_F(SqlStatementsRoutesTest, BadRequestsAreRejected) {
  auto code = [&](json body) {
    auto response = Post("/api/2.0/sql/statements", body);
    return std::to_string(response.status) + " " + ErrorCodeOf(response);
  };
  json ok = {{"statement", "SELECT 1"}, {"warehouse_id", kBuiltinWarehouseId}};
  EXPECT_EQ(code({{"warehouse_id", kBuiltinWarehouseId}}), "400 INVALID_PARAMETER_VALUE");
  EXPECT_EQ(code({{"statement", "SELECT 1"}}), "400 INVALID_PARAMETER_VALUE");
  EXPECT_EQ(code({{"statement", "SELECT 1"}, {"warehouse_id", "abc"}}), "404 NOT_FOUND");
  for (const char* wait : {"3s", "51s", "10", "x", "-1s"}) {
    json body = ok;
    body["wait_timeout"] = wait;
    EXPECT_EQ(code(body), "400 INVALID_PARAMETER_VALUE") << wait;
  }
  json body = ok;
  body["format"] = "CSV";
  EXPECT_EQ(code(body), "400 INVALID_PARAMETER_VALUE");
  body["format"] = "ARROW_STREAM";
  body["disposition"] = "EXTERNAL_LINKS";
  EXPECT_EQ(code(body), "400 INVALID_PARAMETER_VALUE");
  body = ok;
  body["on_wait_timeout"] = "STOP";
  EXPECT_EQ(code(body), "400 INVALID_PARAMETER_VALUE");
  body = ok;
  body["row_limit"] = -1;
  EXPECT_EQ(code(body), "400 INVALID_PARAMETER_VALUE");
  body = ok;
  body["parameters"] = json{{{"value", "1"}}};
  EXPECT_EQ(code(body), "400 INVALID_PARAMETER_VALUE");
  body["parameters"] = "x";
  EXPECT_EQ(code(body), "400 INVALID_PARAMETER_VALUE");
  EXPECT_EQ(Call(http::Method::kPost, "/api/2.0/sql/statements", "{not json").status, 400);
  EXPECT_EQ(Post("/api/2.0/sql/statements", ok, "").status, 401);
  EXPECT_EQ(ErrorCodeOf(Call(http::Method::kGet, "/api/2.0/sql/statements/00000000-0000-0000-0000-000000000000")),
            "NOT_FOUND");
  EXPECT_EQ(Call(http::Method::kGet, "/api/2.0/sql/statements/x").status, 404);
  EXPECT_EQ(Post("/api/2.0/sql/statements/x/cancel", json::object()).status, 404);
}

TEST_F(SqlStatementsRoutesTest, ExternalLinksServeCsvWithoutAuthentication) {
  json r = Execute({{"statement", "SELECT range AS id FROM range(3)"},
                    {"disposition", "EXTERNAL_LINKS"},
                    {"format", "CSV"},
                    {"wait_timeout", "30s"}});
  ASSERT_EQ(r["status"]["state"], "SUCCEEDED") << r.dump();
  EXPECT_EQ(r["manifest"]["format"], "CSV");
  EXPECT_EQ(r["manifest"]["total_byte_count"], 13);  // "id\r\n0\r\n1\r\n" (10) + "2\r\n" (3)
  const json& link = r["result"]["external_links"][0];
  std::string url = link["external_link"];
  EXPECT_EQ(link["next_chunk_index"], 1);
  EXPECT_TRUE(link.contains("expiration"));
  std::string path = url.substr(url.find("/sql/statement-results/"));
  auto file = Call(http::Method::kGet, path, "", "");
  ASSERT_EQ(file.status, 200) << file.body;
  EXPECT_EQ(file.body, "id\r\n0\r\n1\r\n");
  EXPECT_EQ(Call(http::Method::kGet, path.substr(0, path.size() - 1) + "1", "", "").body, "2\r\n");
  std::string forged = path;
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'a' ? 'b' : 'a';
  EXPECT_EQ(Call(http::Method::kGet, forged, "", "").status, 404);
}

TEST_F(SqlStatementsRoutesTest, WarehousesListAndGetTheBuiltInOne) {
  json list = Json(Call(http::Method::kGet, "/api/2.0/sql/warehouses"));
  ASSERT_EQ(list["warehouses"].size(), 1u);
  const json& w = list["warehouses"][0];
  EXPECT_EQ(w["id"], kBuiltinWarehouseId);
  EXPECT_EQ(w["name"], "Tarn built-in");
  EXPECT_EQ(w["state"], "RUNNING");
  EXPECT_EQ(w["odbc_params"]["port"], 5433);
  EXPECT_EQ(w["odbc_params"]["path"], std::string("/sql/1.0/warehouses/") + kBuiltinWarehouseId);
  EXPECT_EQ(Json(Call(http::Method::kGet, std::string("/api/2.0/sql/warehouses/") + kBuiltinWarehouseId)), w);
  EXPECT_EQ(ErrorCodeOf(Call(http::Method::kGet, "/api/2.0/sql/warehouses/nope")), "NOT_FOUND");
  EXPECT_EQ(Call(http::Method::kGet, "/api/2.0/sql/warehouses", "", "").status, 401);
}

}  // namespace
}  // namespace tarn::api
