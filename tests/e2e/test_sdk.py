# SPDX-License-Identifier: Apache-2.0
"""The official Databricks JS SDK (@databricks/sdk-experimental 0.17.0, from npm) against a real `tarn up`."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_js_sdk_drives_dbfs_files_workspace_secrets(tarn, sdk_node_modules):
    env = dict(os.environ, SDK_NODE_MODULES=sdk_node_modules)
    out = subprocess.run(["node", str(ROOT / "tests" / "e2e" / "sdk" / "sdk_check.js"), tarn.url, tarn.admin_token],
                         capture_output=True, text=True, env=env, timeout=600)
    print(out.stdout)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().splitlines()[-1].endswith(" 0 failed")
    assert "FAIL" not in out.stdout
