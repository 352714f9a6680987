"""Pinecone's own documented Python flows, run literally against Conifer through the official client.

1. The API-key explainer: `Pinecone(api_key=..., environment=...)`, an 8-dimensional `cosine` index, two
   `(id, values)` tuples, a query with `top_k=2, include_values=True`.
2. The authentication guide: `Pinecone(api_key=...)`, `create_index(name="auth-guide", dimension=8,
   metric="euclidean", spec=ServerlessSpec(cloud='aws', region='us-west-2'))`, then a few tuples and `top_k=2`.

The only changes a Conifer user makes are the ones the checks below prove necessary: `host=` (Conifer's
address) and, for the explainer, no `environment=` (client 9 refuses it) and `.names()` for `.names`.
Environment: CONIFER_URL (the gateway), CONIFER_API_KEY (a ProjectEditor key of an empty project).
"""

from __future__ import annotations

import math

from harness import check, env, expect_raises, run
from pinecone import Pinecone, ServerlessSpec

URL = env("CONIFER_URL")
API_KEY = env("CONIFER_API_KEY")


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def squared_l2(a: list[float], b: list[float]) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b))


def close(actual: float, expected: float, tolerance: float = 1e-5) -> bool:
    return abs(actual - expected) <= tolerance * max(1.0, abs(expected))


# --- 1. The API-key explainer -------------------------------------------------------------------------

@check("explainer: Pinecone(api_key, environment=...) is refused by client 9 with TypeError")
def explainer_environment_refused() -> None:
    # As written in the explainer. Client 8 accepted and ignored `environment`; 9 raises before any request.
    error = expect_raises(TypeError, lambda: Pinecone(api_key=API_KEY, environment="YOUR_ENVIRONMENT"))
    assert "environment" in str(error), str(error)


pc = Pinecone(api_key=API_KEY, host=URL)  # the explainer's client, with `environment` replaced by `host`
index_name = "my-vector-index"


@check("explainer: print(pc.list_indexes()) on an empty project")
def explainer_list_indexes() -> None:
    listed = pc.list_indexes()
    print(listed)
    assert listed.names() == [], listed.names()


@check("explainer: `name not in pc.list_indexes().names` needs .names() in client 9")
def explainer_names_is_a_method() -> None:
    expect_raises(TypeError, lambda: index_name not in pc.list_indexes().names)  # as written: not iterable
    assert index_name not in pc.list_indexes().names()


@check("explainer: create_index 8-d cosine, then pc.Index(index_name)")
def explainer_create() -> None:
    if index_name not in pc.list_indexes().names():
        pc.create_index(
            name=index_name,
            dimension=8,  # Example dimension
            metric="cosine",
            spec=ServerlessSpec(cloud="aws", region="us-west-2"),
        )
        print(f"Index '{index_name}' created.")
    description = pc.describe_index(index_name)
    assert description.status.ready is True, description.status
    assert (description.dimension, description.metric) == (8, "cosine"), description
    assert (description.spec.serverless.cloud, description.spec.serverless.region) == ("aws", "us-west-2"), description.spec


vectors_to_upsert = [
    ("vec1", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]),
    ("vec2", [0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]),
]
query_vector = [0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85]


@check("explainer: upsert (id, values) tuples")
def explainer_upsert() -> None:
    index = pc.Index(index_name)
    response = index.upsert(vectors=vectors_to_upsert)
    print(f"Upserted {len(vectors_to_upsert)} vectors.")
    assert response.upserted_count == 2, response


@check("explainer: query top_k=2 include_values=True gives cosine similarities, highest first")
def explainer_query() -> None:
    index = pc.Index(index_name)
    query_results = index.query(vector=query_vector, top_k=2, include_values=True)
    print("Query results:", query_results)
    assert [m.id for m in query_results.matches] == ["vec1", "vec2"], query_results.matches
    for match, (_, values) in zip(query_results.matches, vectors_to_upsert):
        assert close(match.score, cosine(query_vector, values)), (match.id, match.score, cosine(query_vector, values))
        assert match.values == values, (match.id, match.values)  # the decimals written, not float32 noise


@check("explainer: delete_index (the explainer's optional clean-up)")
def explainer_cleanup() -> None:
    pc.delete_index(index_name)
    assert not pc.has_index(index_name)


# --- 2. The authentication guide ------------------------------------------------------------------------

@check("auth guide: create_index auth-guide, 8-d euclidean, us-west-2")
def auth_guide_create() -> None:
    pc = Pinecone(api_key=API_KEY, host=URL)  # the guide's `Pinecone(api_key="YOUR_API_KEY")`, plus host
    # Creates an index using the API key stored in the client 'pc'.
    pc.create_index(
        name="auth-guide",
        dimension=8,
        metric="euclidean",
        spec=ServerlessSpec(
            cloud='aws',
            region='us-west-2'
        )
    )
    description = pc.describe_index("auth-guide")
    assert description.status.ready is True and description.metric == "euclidean", description


auth_vectors = [
    ("A", [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]),
    ("B", [0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]),
    ("C", [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]),
    ("D", [0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]),
]


@check("auth guide: upsert tuples, query top_k=2: squared L2 distances, nearest first")
def auth_guide_query() -> None:
    index = pc.Index("auth-guide")
    assert index.upsert(vectors=auth_vectors).upserted_count == 4
    query = [0.32, 0.32, 0.32, 0.32, 0.32, 0.32, 0.32, 0.32]
    results = index.query(vector=query, top_k=2)
    assert [m.id for m in results.matches] == ["C", "D"], results.matches
    expected = [squared_l2(query, auth_vectors[2][1]), squared_l2(query, auth_vectors[3][1])]  # 0.0032, 0.5184
    for match, distance in zip(results.matches, expected):
        assert close(match.score, distance, 1e-4), (match.id, match.score, distance)
    assert results.matches[0].score < results.matches[1].score


@check("auth guide: delete_index auth-guide")
def auth_guide_cleanup() -> None:
    pc.delete_index("auth-guide")
    assert pc.list_indexes().names() == []


if __name__ == "__main__":
    run()
