# SPDX-License-Identifier: Apache-2.0
# Post-commit checkpoints run in the background (engine DeltaCheckpointer); a `tarn sql --local` run drains them at
# exit, so the checkpoint of a commit that reaches delta.checkpointInterval is on disk when the command returns.
from conftest import run_cli


def sql(data, home, text):
    out = run_cli("sql", "--local", "--data", data, "-c", text, "--format", "csv", home=home)
    assert out.returncode == 0, text + "\n" + out.stderr
    return out.stdout.splitlines()


def test_sql_local_leaves_the_due_checkpoint_written(tmp_path):
    data, home, table = tmp_path / "d", tmp_path / "home", tmp_path / "t"
    log = table / "_delta_log"
    sql(data, home, "CREATE TABLE t (id BIGINT) USING DELTA LOCATION '%s'" % table)
    for i in range(1, 10):
        sql(data, home, "INSERT INTO t VALUES (%d)" % i)
    assert not list(log.glob("*.checkpoint.parquet"))
    sql(data, home, "INSERT INTO t VALUES (10)")  # version 10: one process, one commit, then exit
    assert (log / "00000000000000000010.checkpoint.parquet").exists()
    assert '"version":10' in (log / "_last_checkpoint").read_text().replace(" ", "")
    # DDL commits go through the same checkpointer: interval 2 makes version 12 due.
    sql(data, home, "ALTER TABLE t SET TBLPROPERTIES ('delta.checkpointInterval' = '2')")
    sql(data, home, "ALTER TABLE t SET TBLPROPERTIES ('tarn.test' = 'x')")
    assert (log / "00000000000000000012.checkpoint.parquet").exists()
    # Read back through the checkpoint.
    assert sql(data, home, "SELECT count(*) AS n, sum(id) AS s FROM t") == ["n,s", "10,55"]
