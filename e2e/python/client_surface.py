"""The official Python client 9 against Conifer: control plane, data plane, errors as the client's own
exception classes, tenancy, and `pc.Index(host=...)`.

Environment (set by e2e/test/python-client.e2e-spec.ts):
  CONIFER_URL                 the gateway (`Pinecone(host=...)`)
  CONIFER_API_KEY             ProjectEditor key of project A (no indexes yet)
  CONIFER_VIEWER_KEY          ProjectViewer key of project A
  CONIFER_OTHER_PROJECT_KEY   ProjectEditor key of project B
  CONIFER_REVOCABLE_KEY, CONIFER_REVOCABLE_KEY_ID   a ProjectEditor key of project A this script revokes
  CONIFER_RATE_LIMITED_KEY    ProjectEditor key of project A limited to 1 request per second
  CONIFER_ADMIN_TOKEN         admin bearer token (revocation goes through Conifer's admin API, as documented)
"""

from __future__ import annotations

import asyncio
import os

import httpx
from harness import check, env, eventually, expect_raises, run
from pinecone import (
    ApiError,
    AsyncPinecone,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    Pinecone,
    PineconeValueError,
    RetryConfig,
    ServerlessSpec,
    UnauthorizedError,
    Vector,
)

URL = env("CONIFER_URL")
pc = Pinecone(api_key=env("CONIFER_API_KEY"), host=URL)
viewer = Pinecone(api_key=env("CONIFER_VIEWER_KEY"), host=URL)
other = Pinecone(api_key=env("CONIFER_OTHER_PROJECT_KEY"), host=URL)
SPEC = ServerlessSpec(cloud="aws", region="us-east-1")

DENSE, DOT, SPARSE = "py-dense", "py-dotproduct", "py-sparse"
hosts: dict[str, str] = {}


def vec(seed: int) -> list[float]:
    # Short decimals: what the client reads back must equal what it wrote.
    return [round(((seed * 7 + i * 3) % 19 - 9) / 10, 2) or 0.05 for i in range(4)]


# --- control plane ----------------------------------------------------------------------------------------

@check("control: create_index dense cosine with tags and deletion protection")
def create_dense() -> None:
    model = pc.create_index(
        name=DENSE, dimension=4, metric="cosine", spec=SPEC, deletion_protection="enabled", tags={"team": "search"}
    )
    assert model.status.ready is True and model.host, model
    assert model.deletion_protection == "enabled" and dict(model.tags or {}) == {"team": "search"}, model


@check("control: create_index dense dotproduct")
def create_dotproduct() -> None:
    model = pc.create_index(name=DOT, dimension=4, metric="dotproduct", spec=SPEC)
    assert (model.metric, model.dimension, model.vector_type) == ("dotproduct", 4, "dense"), model


@check("control: create_index sparse (vector_type='sparse', dotproduct, no dimension)")
def create_sparse() -> None:
    model = pc.create_index(name=SPARSE, metric="dotproduct", vector_type="sparse", spec=SPEC)
    assert model.vector_type == "sparse" and model.dimension is None, model


@check("control: describe_index returns the model with its data-plane host")
def describe() -> None:
    model = pc.describe_index(DENSE)
    assert (model.name, model.dimension, model.metric, model.vector_type) == (DENSE, 4, "cosine", "dense"), model
    assert model.status.ready is True and model.status.state == "Ready", model.status
    assert (model.spec.serverless.cloud, model.spec.serverless.region) == ("aws", "us-east-1"), model.spec
    assert model.host.startswith(URL + "/data/") and model.host.endswith("/" + DENSE), model.host
    for name in (DENSE, DOT, SPARSE):
        hosts[name] = pc.describe_index(name).host


@check("control: list_indexes and has_index")
def list_and_has() -> None:
    assert sorted(pc.list_indexes().names()) == sorted([DENSE, DOT, SPARSE]), pc.list_indexes().names()
    assert {i.name: i.metric for i in pc.list_indexes()} == {DENSE: "cosine", DOT: "dotproduct", SPARSE: "dotproduct"}
    assert pc.has_index(DENSE) is True
    assert pc.has_index("py-missing") is False


@check("control: configure_index merges tags and toggles deletion protection")
def configure() -> None:
    pc.configure_index(DENSE, tags={"stage": "e2e"})
    assert dict(pc.describe_index(DENSE).tags or {}) == {"team": "search", "stage": "e2e"}
    pc.configure_index(DENSE, tags={"team": ""})  # an empty value removes the tag, as at Pinecone
    assert dict(pc.describe_index(DENSE).tags or {}) == {"stage": "e2e"}
    expect_raises(ForbiddenError, lambda: pc.delete_index(DENSE), status=403)
    assert pc.has_index(DENSE)
    pc.configure_index(DENSE, deletion_protection="disabled")
    assert pc.describe_index(DENSE).deletion_protection == "disabled"


# --- data plane -------------------------------------------------------------------------------------------

@check("data: upsert tuples, dicts, Vector objects with metadata, default and named namespace")
def upsert() -> None:
    index = pc.Index(DENSE)
    r1 = index.upsert(vectors=[("t1", vec(1)), ("t2", vec(2), {"genre": "drama", "year": 2001})])
    r2 = index.upsert(
        vectors=[
            {"id": "d3", "values": vec(3), "metadata": {"genre": "comedy", "year": 2003, "tags": ["a", "b"]}},
            {"id": "d4", "values": vec(4), "metadata": {"genre": "drama", "year": 2004, "draft": False}},
            Vector(id="v5", values=vec(5), metadata={"genre": "drama", "year": 2005}),
        ]
    )
    r3 = index.upsert(
        vectors=[(f"ns-{i}", vec(10 + i), {"genre": "drama" if i % 2 else "comedy"}) for i in range(6)],
        namespace="books",
    )
    assert (r1.upserted_count, r2.upserted_count, r3.upserted_count) == (2, 3, 6), (r1, r2, r3)


@check("data: fetch returns the values and metadata written; missing ids are omitted")
def fetch() -> None:
    index = pc.Index(DENSE)
    fetched = index.fetch(ids=["t2", "d3", "missing"])
    assert sorted(fetched.vectors) == ["d3", "t2"], fetched.vectors
    assert fetched.vectors["d3"].values == vec(3), fetched.vectors["d3"].values
    assert fetched.vectors["d3"].metadata == {"genre": "comedy", "year": 2003, "tags": ["a", "b"]}, fetched.vectors["d3"]
    assert fetched.vectors["t2"].metadata == {"genre": "drama", "year": 2001}
    assert list(index.fetch(ids=["ns-1"], namespace="books").vectors) == ["ns-1"]
    assert index.fetch(ids=["ns-1"]).vectors == {}  # namespaces are separate


@check("data: query by vector with a filter, include_metadata and include_values")
def query_vector() -> None:
    index = pc.Index(DENSE)
    result = index.query(vector=vec(4), top_k=10, filter={"genre": {"$eq": "drama"}, "year": {"$gte": 2002}},
                         include_metadata=True, include_values=True)
    assert [m.id for m in result.matches] == ["d4", "v5"], result
    assert result.matches[0].id == "d4" and abs(result.matches[0].score - 1) < 1e-5, result.matches[0]
    assert result.matches[0].values == vec(4) and result.matches[0].metadata["year"] == 2004
    scores = [m.score for m in result.matches]
    assert scores == sorted(scores, reverse=True), scores
    plain = index.query(vector=vec(1), top_k=2)
    assert len(plain.matches) == 2 and plain.matches[0].id == "t1", plain
    assert plain.matches[0].values == [] and plain.matches[0].metadata is None, plain.matches[0]


@check("data: query by id with a filter, in a named namespace")
def query_id() -> None:
    index = pc.Index(DENSE)
    result = index.query(id="ns-1", top_k=10, namespace="books", filter={"genre": "drama"}, include_metadata=True)
    assert sorted(m.id for m in result.matches) == ["ns-1", "ns-3", "ns-5"], result
    assert result.matches[0].id == "ns-1" and result.namespace == "books", result
    assert all(m.metadata == {"genre": "drama"} for m in result.matches)


@check("data: dotproduct scores are raw dot products, highest first")
def query_dotproduct() -> None:
    index = pc.Index(DOT)
    index.upsert(vectors=[("x", [1, 0, 0, 0]), ("y", [2, 2, 0, 0]), ("z", [0, 0, 3, 0])])
    result = index.query(vector=[1, 1, 0, 0], top_k=3)
    assert [(m.id, round(m.score, 5)) for m in result.matches] == [("y", 4.0), ("x", 1.0), ("z", 0.0)], result


@check("data: sparse upsert and query")
def sparse() -> None:
    index = pc.Index(SPARSE)
    index.upsert(vectors=[
        {"id": "s1", "sparse_values": {"indices": [1, 5, 9], "values": [0.5, 0.25, 1]}, "metadata": {"kind": "a"}},
        {"id": "s2", "sparse_values": {"indices": [2, 5], "values": [1, 2]}, "metadata": {"kind": "b"}},
    ])
    result = index.query(sparse_vector={"indices": [5, 9], "values": [1, 1]}, top_k=2, include_metadata=True)
    assert [(m.id, round(m.score, 5)) for m in result.matches] == [("s2", 2.0), ("s1", 1.25)], result
    fetched = index.fetch(ids=["s1"]).vectors["s1"]
    assert (fetched.sparse_values.indices, fetched.sparse_values.values) == ([1, 5, 9], [0.5, 0.25, 1]), fetched


@check("data: update values, and set_metadata merges into the existing metadata")
def update() -> None:
    index = pc.Index(DENSE)
    index.update(id="d4", values=vec(16))
    index.update(id="d4", set_metadata={"genre": "thriller", "rating": 4.5})
    updated = index.fetch(ids=["d4"]).vectors["d4"]
    assert updated.values == vec(16), updated.values
    assert updated.metadata == {"genre": "thriller", "year": 2004, "draft": False, "rating": 4.5}, updated.metadata


@check("data: list and list_paginated follow pagination to the end")
def listing() -> None:
    index = pc.Index(DENSE)
    pages = list(index.list(namespace="books", prefix="ns-", limit=4))
    assert [len(p.vectors) for p in pages] == [4, 2], [[v.id for v in p.vectors] for p in pages]
    assert sorted(v.id for p in pages for v in p.vectors) == [f"ns-{i}" for i in range(6)]
    first = index.list_paginated(namespace="books", limit=5)
    assert len(first.vectors) == 5 and first.pagination and first.pagination.next, first
    last = index.list_paginated(namespace="books", limit=5, pagination_token=first.pagination.next)
    assert len(last.vectors) == 1 and last.pagination is None, last
    assert sorted(v.id for v in index.list_paginated(prefix="t").vectors) == ["t1", "t2"]


@check("data: describe_index_stats counts per namespace, also under a filter")
def stats() -> None:
    stats = pc.Index(DENSE).describe_index_stats()
    assert (stats.dimension, stats.total_vector_count, stats.metric) == (4, 11, "cosine"), stats
    assert {name: s.vector_count for name, s in stats.namespaces.items()} == {"": 5, "books": 6}, stats.namespaces
    filtered = pc.Index(DENSE).describe_index_stats(filter={"genre": {"$eq": "drama"}})
    assert filtered.total_vector_count == 5, filtered  # t2, v5 (d4 is a thriller now) and ns-1, ns-3, ns-5
    assert {name: s.vector_count for name, s in filtered.namespaces.items()} == {"": 2, "books": 3}, filtered


@check("data: update by filter (dry_run first) and fetch_by_metadata (API 2025-10)")
def update_by_filter() -> None:
    index = pc.Index(DENSE)
    dry = index.update(filter={"genre": {"$eq": "drama"}}, set_metadata={"shelf": "b"}, namespace="books", dry_run=True)
    assert dry.matched_records == 3, dry
    assert "shelf" not in index.fetch(ids=["ns-1"], namespace="books").vectors["ns-1"].metadata
    done = index.update(filter={"genre": {"$eq": "drama"}}, set_metadata={"shelf": "b"}, namespace="books")
    assert done.matched_records == 3, done
    found = index.fetch_by_metadata(filter={"shelf": {"$eq": "b"}}, namespace="books", limit=10)
    assert sorted(found.vectors) == ["ns-1", "ns-3", "ns-5"], found
    assert found.vectors["ns-3"].metadata == {"genre": "drama", "shelf": "b"}, found.vectors["ns-3"]


def namespace_counts(index) -> dict[str, int]:
    return {ns.name: ns.record_count for page in index.list_namespaces() for ns in page.namespaces}


@check("data: namespaces: create, list, list_namespaces_paginated, describe, delete")
def namespaces() -> None:
    index = pc.Index(DENSE)
    created = index.create_namespace(name="empty")
    assert (created.name, created.record_count) == ("empty", 0), created
    assert namespace_counts(index) == {"__default__": 5, "books": 6, "empty": 0}, namespace_counts(index)
    page = index.list_namespaces_paginated(limit=2)
    assert len(page.namespaces) == 2 and page.total_count == 3 and page.pagination and page.pagination.next, page
    rest = index.list_namespaces_paginated(limit=2, pagination_token=page.pagination.next)
    assert len(rest.namespaces) == 1 and rest.pagination is None, rest
    described = index.describe_namespace(name="books")
    assert (described.name, described.record_count) == ("books", 6), described
    for name in ("books", "empty"):
        index.delete_namespace(name=name)
    eventually(lambda: namespace_counts(index), lambda counts: set(counts) == {"__default__"})
    expect_raises(NotFoundError, lambda: index.describe_namespace(name="books"), status=404)
    assert namespace_counts(index) == {"__default__": 5}, namespace_counts(index)


@check("data: delete by ids, by filter, and delete_all")
def delete() -> None:
    index = pc.Index(DENSE)
    index.delete(ids=["t1", "no-such-id"])
    index.delete(filter={"genre": {"$eq": "drama"}})  # t2 and v5 (d4 is now a thriller)
    assert sorted(index.fetch(ids=["t1", "t2", "d3", "d4", "v5"]).vectors) == ["d3", "d4"]
    index.delete(delete_all=True)
    stats = eventually(index.describe_index_stats, lambda s: s.total_vector_count == 0)
    assert stats.total_vector_count == 0, stats


@check("host: pc.Index(host=...) with the host describe_index returned")
def index_by_host() -> None:
    index = pc.Index(host=hosts[DENSE])
    assert index.upsert(vectors=[("h1", vec(7), {"via": "host"})]).upserted_count == 1
    result = index.query(vector=vec(7), top_k=1, include_metadata=True)
    assert result.matches[0].id == "h1" and result.matches[0].metadata == {"via": "host"}, result
    assert pc.index(host=hosts[DENSE]).fetch(ids=["h1"]).vectors["h1"].values == vec(7)


@check("async: AsyncPinecone describe_index, then index(host=...) upsert, query, fetch, delete")
def async_client() -> None:
    async def flow() -> None:
        async with AsyncPinecone(api_key=env("CONIFER_API_KEY"), host=URL) as apc:
            description = await apc.describe_index(DENSE)
            assert description.host == hosts[DENSE], description
            async with await apc.index(host=description.host) as index:
                upserted = await index.upsert(vectors=[("a1", vec(8), {"via": "async"})], namespace="async")
                assert upserted.upserted_count == 1, upserted
                result = await index.query(vector=vec(8), top_k=1, namespace="async", include_metadata=True)
                assert [(m.id, m.metadata) for m in result.matches] == [("a1", {"via": "async"})], result
                fetched = await index.fetch(ids=["a1"], namespace="async")
                assert fetched.vectors["a1"].values == vec(8), fetched
                await index.delete(delete_all=True, namespace="async")

    asyncio.run(flow())


@check("host: PINECONE_CONTROLLER_HOST instead of host= reaches the gateway")
def controller_host_env() -> None:
    os.environ["PINECONE_CONTROLLER_HOST"] = URL
    try:
        assert DENSE in Pinecone(api_key=env("CONIFER_API_KEY")).list_indexes().names()
    finally:
        del os.environ["PINECONE_CONTROLLER_HOST"]


@check("host: the client refuses an index host with no dot (why CONIFER_PUBLIC_URL must be dotted)")
def undotted_host() -> None:
    undotted = hosts[DENSE].replace("127.0.0.1", "gateway")
    error = expect_raises(PineconeValueError, lambda: pc.Index(host=undotted))
    assert "must contain a dot or 'localhost'" in str(error), str(error)
    assert pc.Index(host=hosts[DENSE].replace("127.0.0.1", "localhost")).fetch(ids=["h1"]).vectors["h1"].values == vec(7)


# --- errors, as the client's own exception classes ---------------------------------------------------------

@check("errors: 401 UnauthorizedError for a wrong key, on both planes")
def unauthorized() -> None:
    bad = Pinecone(api_key="pcsk_not_a_real_key", host=URL)
    expect_raises(UnauthorizedError, bad.list_indexes, status=401)
    expect_raises(UnauthorizedError, lambda: bad.Index(host=hosts[DENSE]).query(vector=vec(1), top_k=1), status=401)


@check("errors: 401 UnauthorizedError for a revoked key, on both planes")
def revoked() -> None:
    revocable = Pinecone(api_key=env("CONIFER_REVOCABLE_KEY"), host=URL)
    assert DENSE in revocable.list_indexes().names()
    index = revocable.Index(host=hosts[DENSE])
    index.fetch(ids=["h1"])
    response = httpx.delete(f"{URL}/admin/api-keys/{env('CONIFER_REVOCABLE_KEY_ID')}",
                            headers={"Authorization": f"Bearer {env('CONIFER_ADMIN_TOKEN')}"})
    assert response.status_code == 202, response.text
    expect_raises(UnauthorizedError, revocable.list_indexes, status=401)
    expect_raises(UnauthorizedError, lambda: index.fetch(ids=["h1"]), status=401)


@check("errors: 403 ForbiddenError for a ProjectViewer key writing, on both planes")
def forbidden() -> None:
    assert DENSE in viewer.list_indexes().names()  # reading is allowed
    assert viewer.Index(host=hosts[DENSE]).query(vector=vec(7), top_k=1).matches[0].id == "h1"
    expect_raises(ForbiddenError, lambda: viewer.create_index(name="py-viewer", dimension=4, spec=SPEC), status=403)
    expect_raises(ForbiddenError, lambda: viewer.delete_index(DOT), status=403)
    expect_raises(ForbiddenError, lambda: viewer.configure_index(DOT, tags={"a": "b"}), status=403)
    expect_raises(ForbiddenError, lambda: viewer.Index(host=hosts[DENSE]).upsert(vectors=[("w", vec(1))]), status=403)
    expect_raises(ForbiddenError, lambda: viewer.Index(host=hosts[DENSE]).delete(delete_all=True), status=403)


@check("errors: 404 NotFoundError for a missing index, on both planes")
def not_found() -> None:
    expect_raises(NotFoundError, lambda: pc.describe_index("py-missing"), status=404)
    expect_raises(NotFoundError, lambda: pc.Index("py-missing"), status=404)
    expect_raises(NotFoundError, lambda: pc.configure_index("py-missing", tags={"a": "b"}), status=404)
    expect_raises(NotFoundError, lambda: pc.delete_index("py-missing"), status=404)
    missing_host = hosts[DENSE].rsplit("/", 1)[0] + "/py-missing"
    expect_raises(NotFoundError, lambda: pc.Index(host=missing_host).query(vector=vec(1), top_k=1), status=404)


@check("errors: 409 ConflictError for a duplicate index name")
def conflict() -> None:
    expect_raises(ConflictError, lambda: pc.create_index(name=DOT, dimension=4, metric="cosine", spec=SPEC), status=409)


@check("errors: 400 ApiError for bad arguments the server refuses")
def bad_request() -> None:
    index = pc.Index(host=hosts[DENSE])
    error = expect_raises(ApiError, lambda: index.upsert(vectors=[("wrong-dim", [0.1, 0.2, 0.3])]), status=400)
    assert "dimension" in str(error).lower(), str(error)
    expect_raises(ApiError, lambda: index.query(vector=[0.1, 0.2], top_k=1), status=400)
    expect_raises(ApiError, lambda: index.query(vector=vec(1), top_k=1, filter={"year": {"$gt": "x"}}), status=400)
    expect_raises(ApiError, lambda: pc.create_index(name="py-too-wide", dimension=20001, spec=SPEC), status=400)


@check("errors: 429 for a rate-limited key: ApiError with Retry-After, and the client's retries wait it out")
def rate_limited() -> None:
    key = env("CONIFER_RATE_LIMITED_KEY")  # 1 request per second
    no_retries = Pinecone(api_key=key, host=URL, retry_config=RetryConfig(max_retries=1))  # control plane only
    refused: list[ApiError] = []
    for _ in range(4):
        try:
            no_retries.list_indexes()
        except ApiError as error:
            refused.append(error)
    assert refused and all(e.status_code == 429 for e in refused), [str(e) for e in refused]
    assert 1 <= int(refused[0].headers["retry-after"]) <= 2, refused[0].headers
    # pc.Index(...) always uses the client's default RetryConfig (429 retried after Retry-After): every call succeeds.
    index = no_retries.Index(host=hosts[DENSE])
    for _ in range(2):
        assert list(index.fetch(ids=["h1"]).vectors) == ["h1"]


@check("tenancy: another project's key sees 404 for this project's index, on both planes")
def other_project() -> None:
    assert DENSE not in other.list_indexes().names()
    assert other.has_index(DENSE) is False
    expect_raises(NotFoundError, lambda: other.describe_index(DENSE), status=404)
    expect_raises(NotFoundError, lambda: other.delete_index(DENSE), status=404)
    foreign = other.Index(host=hosts[DENSE])
    expect_raises(NotFoundError, lambda: foreign.query(vector=vec(7), top_k=1), status=404)
    expect_raises(NotFoundError, lambda: foreign.fetch(ids=["h1"]), status=404)
    expect_raises(NotFoundError, lambda: foreign.upsert(vectors=[("intruder", vec(1))]), status=404)
    assert list(pc.Index(host=hosts[DENSE]).fetch(ids=["h1", "intruder"]).vectors) == ["h1"]


@check("control: delete_index; describe then raises NotFoundError")
def delete_indexes() -> None:
    for name in (DENSE, DOT, SPARSE):
        pc.delete_index(name)
    expect_raises(NotFoundError, lambda: pc.describe_index(DENSE), status=404)
    assert pc.list_indexes().names() == []


if __name__ == "__main__":
    run()
