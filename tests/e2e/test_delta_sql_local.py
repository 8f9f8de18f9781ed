# SPDX-License-Identifier: Apache-2.0
# The Delta SQL surface through `tarn sql --local` (issue 3): delta.`path`, VERSION AS OF, TIMESTAMP AS OF,
# DESCRIBE HISTORY / DETAIL, table_changes, and a column-mapping CTAS committed as one version.
from conftest import run_cli


def sql(data, home, text):
    out = run_cli("sql", "--local", "--data", data, "-c", text, "--format", "csv", home=home)
    assert out.returncode == 0, text + "\n" + out.stderr
    return out.stdout.splitlines()


def test_delta_sql_surface_in_sql_local(tmp_path):
    data, home, table = tmp_path / "d", tmp_path / "home", tmp_path / "events"
    ref = "delta.`%s`" % table
    sql(data, home, "CREATE TABLE ev (id BIGINT, kind STRING) USING DELTA LOCATION '%s' "
                    "TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')" % table)
    sql(data, home, "INSERT INTO ev VALUES (1, 'a'), (2, 'b')")
    sql(data, home, "INSERT INTO ev VALUES (3, 'c')")
    assert sql(data, home, "SELECT count(*) AS n FROM %s" % ref) == ["n", "3"]
    assert sql(data, home, "SELECT count(*) AS n FROM %s VERSION AS OF 1" % ref) == ["n", "2"]
    history = sql(data, home, "SELECT version, operation, CAST(timestamp AS VARCHAR) AS ts "
                              "FROM (DESCRIBE HISTORY %s) ORDER BY version" % ref)
    assert [line.split(",")[:2] for line in history[1:]] == [["0", "CREATE TABLE"], ["1", "WRITE"], ["2", "WRITE"]]
    v1_timestamp = history[2].split(",")[2]
    assert sql(data, home, "SELECT count(*) AS n FROM %s TIMESTAMP AS OF '%s'" % (ref, v1_timestamp)) == ["n", "2"]
    assert sql(data, home, "SELECT format, numFiles FROM (DESCRIBE DETAIL %s)" % ref) == ["format,numFiles",
                                                                                           "delta,2"]
    assert sql(data, home, "SELECT id, _change_type, _commit_version FROM table_changes('%s', 2)" % table) == [
        "id,_change_type,_commit_version", "3,insert,2"]


def test_column_mapping_ctas_is_one_commit_in_sql_local(tmp_path):
    data, home, table = tmp_path / "d", tmp_path / "home", tmp_path / "mapped"
    sql(data, home, "CREATE TABLE cm USING DELTA LOCATION '%s' TBLPROPERTIES ('delta.columnMapping.mode' = 'name') "
                    "AS SELECT range AS id, 'v' || range AS \"my col\" FROM range(5)" % table)
    history = sql(data, home, "SELECT version, operation FROM (DESCRIBE HISTORY delta.`%s`)" % table)
    assert history == ["version,operation", "0,CREATE TABLE AS SELECT"]
    assert sql(data, home, "SELECT sum(id) AS s, max(\"my col\") AS m FROM cm") == ["s,m", "10,v4"]


def test_current_user_in_sql_local_is_the_os_user(tmp_path):
    import os
    import pwd
    me = pwd.getpwuid(os.geteuid()).pw_name
    assert sql(tmp_path / "d", tmp_path / "home", "SELECT current_user AS u, current_user() AS f, session_user AS s") == [
        "u,f,s", "%s,%s,%s" % (me, me, me)]
