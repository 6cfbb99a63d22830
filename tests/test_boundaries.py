"""The rules between apps (docs/architecture.md, "Between apps"), checked over the product's source with ast (which
imports nothing), imports inside functions included:

- only AWS gateways import boto3 or botocore: a part's `aws.py`, and the client layer in portal/aws/;
- the core (portal/) imports no feature app;
- no product module imports the sandbox, which is one of the AWSes the portal may talk to, and absent in production.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("portal", "catalog", "observability", "audit")
FEATURE_APPS = ("catalog", "observability")


def _imports(root: Path = ROOT) -> dict[str, set[str]]:
    """Path (from the repo's root) -> the top-level packages it imports, for every product module."""
    found = {}
    for package in PRODUCT:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            names = set()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
            found[path.relative_to(root).as_posix()] = names
    return found


def test_only_aws_gateways_import_boto3():
    offenders = sorted(
        path
        for path, names in _imports().items()
        if names & {"boto3", "botocore"} and not (path.endswith("/aws.py") or path.startswith("portal/aws/"))
    )
    assert offenders == []


def test_the_core_imports_no_feature_app():
    offenders = sorted(
        path for path, names in _imports().items() if path.startswith("portal/") and names & set(FEATURE_APPS)
    )
    assert offenders == []


def test_no_product_module_imports_the_sandbox():
    assert sorted(path for path, names in _imports().items() if "sandbox" in names) == []


def test_the_checks_see_imports_inside_functions_and_read_every_module(tmp_path):
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "views.py").write_text("def f():\n    import boto3\n    from sandbox.seed import seed\n")

    assert _imports(tmp_path) == {"portal/views.py": {"boto3", "sandbox"}}
    assert len(_imports()) > 100
