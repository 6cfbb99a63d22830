"""Write a realistic Backstage catalog of N entities (default 100,000) as YAML files.

The mix follows what a large AWS estate looks like in a catalog: mostly
Resources (tables, queues, functions...) and Components, plus APIs, Systems,
Domains, Groups and Users, with the relations Backstage derives from specs
(owner, system, domain, providesApis, consumesApis, dependsOn, dependencyOf,
memberOf). Deterministic for a given seed, so runs are comparable.

    python bench/generate_catalog.py OUT_DIR [--entities 100000] [--per-file 1000] [--seed 7]

OUT_DIR/all.yaml is a Location that targets every generated file.
"""

import argparse
import random
from pathlib import Path

import yaml

# Shares of the whole (the rest are Resources).
SHARES = {"Domain": 0.0002, "System": 0.002, "Group": 0.0015, "User": 0.02, "API": 0.03, "Component": 0.25}
LIFECYCLES = ["production", "production", "production", "experimental", "deprecated"]
COMPONENT_TYPES = ["service", "service", "service", "website", "library", "lambda"]
RESOURCE_TYPES = ["dynamodb-table", "sqs-queue", "sns-topic", "lambda-function", "ecs-service", "s3-bucket", "rds-db"]
API_TYPES = ["openapi", "openapi", "openapi", "asyncapi", "graphql", "grpc"]
TAGS = [
    "java",
    "python",
    "go",
    "node",
    "rust",
    "kotlin",
    "pci",
    "gdpr",
    "tier-1",
    "tier-2",
    "tier-3",
    "public",
    "internal",
    "batch",
    "streaming",
    "legacy",
    "aws",
    "fargate",
    "lambda",
    "critical",
]
WORDS = [
    "orders",
    "payments",
    "inventory",
    "shipping",
    "catalog",
    "search",
    "checkout",
    "billing",
    "fraud",
    "ledger",
    "pricing",
    "reviews",
    "accounts",
    "identity",
    "notify",
    "media",
    "reports",
    "loyalty",
    "returns",
    "tax",
]


def _name(rng: random.Random, prefix: str, i: int) -> str:
    return f"{rng.choice(WORDS)}-{prefix}-{i}"


def _doc(kind, name, spec, *, rng, description=None, tags=(), annotations=None, links=None, api_version=None):
    metadata = {"name": name, "description": description or f"The {name.replace('-', ' ')} {kind.lower()}."}
    if tags:
        metadata["tags"] = list(tags)
    if annotations:
        metadata["annotations"] = annotations
    if links:
        metadata["links"] = links
    return {"apiVersion": api_version or "backstage.io/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec}


def generate(total: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    counts = {kind: max(1, int(total * share)) for kind, share in SHARES.items()}
    counts["Resource"] = total - sum(counts.values())

    domains = [f"domain-{i}" for i in range(counts["Domain"])]
    systems = [f"system-{i}" for i in range(counts["System"])]
    groups = [f"team-{i}" for i in range(counts["Group"])]
    users = [f"user-{i}" for i in range(counts["User"])]
    apis = [_name(rng, "api", i) for i in range(counts["API"])]
    components = [_name(rng, "svc", i) for i in range(counts["Component"])]
    resources = [_name(rng, "res", i) for i in range(counts["Resource"])]

    docs = []
    docs += [_doc("Domain", d, {"owner": f"group:{rng.choice(groups)}"}, rng=rng) for d in domains]
    docs += [_doc("System", s, {"owner": rng.choice(groups), "domain": rng.choice(domains)}, rng=rng) for s in systems]
    docs += [
        _doc(
            "Group",
            g,
            {"type": "team", "children": [], "profile": {"displayName": g.replace("-", " ").title()}},
            rng=rng,
        )
        for g in groups
    ]
    docs += [
        _doc("User", u, {"memberOf": [rng.choice(groups)], "profile": {"email": f"{u}@example.com"}}, rng=rng)
        for u in users
    ]
    for api in apis:
        kind = rng.choice(API_TYPES)
        definition = (
            f"openapi: 3.0.0\ninfo:\n  title: {api}\n  version: 1.0.0\npaths: {{}}\n"
            if kind == "openapi"
            else f"# {kind} definition of {api}\n"
        )
        spec = {
            "type": kind,
            "lifecycle": rng.choice(LIFECYCLES),
            "owner": rng.choice(groups),
            "system": rng.choice(systems),
            "definition": definition,
        }
        docs.append(_doc("API", api, spec, rng=rng, tags=rng.sample(TAGS, 2)))
    for i, comp in enumerate(components):
        spec = {
            "type": rng.choice(COMPONENT_TYPES),
            "lifecycle": rng.choice(LIFECYCLES),
            "owner": rng.choice(groups),
            "system": rng.choice(systems),
            "providesApis": rng.sample(apis, rng.randint(0, 2)),
            "consumesApis": rng.sample(apis, rng.randint(0, 3)),
            "dependsOn": [f"component:{c}" for c in rng.sample(components[: max(1, i)], min(i, rng.randint(0, 2)))],
        }
        annotations = {"meridian.io/runbook": f"https://runbooks.example.com/{comp}"} if rng.random() < 0.6 else None
        docs.append(
            _doc("Component", comp, spec, rng=rng, tags=rng.sample(TAGS, rng.randint(1, 3)), annotations=annotations)
        )
    for res in resources:
        rtype = rng.choice(RESOURCE_TYPES)
        spec = {
            "type": rtype,
            "owner": rng.choice(groups),
            "system": rng.choice(systems),
            "dependencyOf": [f"component:{rng.choice(components)}"],
        }
        annotations = {"aws.amazon.com/arn": f"arn:aws:{rtype.split('-')[0]}:eu-west-1:123456789012:{res}"}
        docs.append(_doc("Resource", res, spec, rng=rng, tags=rng.sample(TAGS, 1), annotations=annotations))
    return docs


def write(docs: list[dict], out: Path, per_file: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for start in range(0, len(docs), per_file):
        path = out / f"entities-{start // per_file:04d}.yaml"
        with path.open("w") as fh:
            yaml.dump_all(docs[start : start + per_file], fh, Dumper=yaml.CSafeDumper, sort_keys=False)
        files.append(path)
    location = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {"name": "bench-all", "description": "Every generated file."},
        "spec": {"targets": [f"./{p.name}" for p in files]},
    }
    (out / "all.yaml").write_text(yaml.safe_dump(location, sort_keys=False))
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--per-file", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    docs = generate(args.entities, args.seed)
    files = write(docs, args.out, args.per_file)
    kinds = {}
    for d in docs:
        kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
    print(f"wrote {len(docs)} entities in {len(files)} files under {args.out}: {kinds}")


if __name__ == "__main__":
    main()
