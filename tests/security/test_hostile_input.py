"""Hostile input on every write endpoint of the API: oversized and deeply nested bodies, non-finite and
out-of-range numbers, negative zero, unicode and control characters in names, invalid UTF-8, wrong content
types. Every refusal is a 4xx with a JSON message a person can read, and writes nothing (``row_counts()``).

The decisions this file pins down:

- ``-0.0`` is zero: accepted wherever 0 is (stored and answered as ``0.0``, never ``-0.0``) and refused,
  like 0, where the minimum is above zero.
- Names keep any printable unicode exactly (accents, CJK, emoji with joiners, right-to-left scripts, combining
  marks are not normalised), but refuse C0/C1 control characters (``\\x00``, ``\\x07``, ``\\n``, ...) and the
  invisible bidirectional overrides/isolates and line separators (``\\u202e``, ``\\u2066``, ``\\u2028``): a name
  is shown in pages, reports and CSV files, where those make it read as something else.
"""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from racks.models import Site
from tests.security.conftest import powered_site, row_counts

pytestmark = pytest.mark.django_db

API = "/api/v1"
MARK = "__VALUE__"  # where a hostile number goes in a payload template


# ---------------------------------------------------------------------------------------------------------------
# The write endpoints: method, path, a valid payload (built from the fixture's objects), the numeric field the
# number cases hit, a field where 0 is valid (for -0.0), the name field (for text cases) and the success status.
# ---------------------------------------------------------------------------------------------------------------


class Endpoint:
    def __init__(self, key, method, path, payload, number, *, zero=None, name=None, created=201):
        self.key, self.method, self.path, self.payload = key, method, path, payload
        self.number, self.zero, self.name, self.created = number, zero, name, created

    def __repr__(self):
        return self.key


ENDPOINTS = [
    Endpoint(
        "sites",
        "post",
        lambda w: f"{API}/sites/",
        lambda w: {"name": "Hostile site", "slug": "hostile-site", "utility_capacity_kw": 1000},
        "utility_capacity_kw",
        zero="utility_capacity_kw",
        name="name",
    ),
    Endpoint(
        "rooms",
        "post",
        lambda w: f"{API}/rooms/",
        lambda w: {"site": w["site"].pk, "name": "Hostile room", "floor_rated_load_kg_m2": 1224},
        "floor_rated_load_kg_m2",
        name="name",
    ),
    Endpoint(
        "rows",
        "post",
        lambda w: f"{API}/rows/",
        lambda w: {"room": w["room"].pk, "name": "Hostile row", "aisle_width_mm": 1200},
        "aisle_width_mm",
        zero="aisle_width_mm",
        name="name",
    ),
    Endpoint(
        "racks",
        "post",
        lambda w: f"{API}/racks/",
        lambda w: {
            "row": w["row"].pk,
            "name": "Hostile rack",
            "position": w["racks"][0].position + 1000,
            "max_load_kg": 1400,
            "empty_weight_kg": 150,
        },
        "max_load_kg",
        zero="empty_weight_kg",
        name="name",
    ),
    Endpoint(
        "pdus",
        "post",
        lambda w: f"{API}/pdus/",
        lambda w: {
            "rack": w["racks"][0].pk,
            "name": "PDU-H",
            "side": "A",
            "phases": 1,
            "voltage_v": 230,
            "current_a": 32,
        },
        "current_a",
        name="name",
    ),
    Endpoint(
        "power-sources",
        "post",
        lambda w: f"{API}/power-sources/",
        lambda w: {"site": w["site"].pk, "name": "Hostile UPS", "kind": "ups", "capacity_kw": 100},
        "capacity_kw",
        zero="capacity_kw",
        name="name",
    ),
    Endpoint(
        "cooling-loops",
        "post",
        lambda w: f"{API}/cooling-loops/",
        lambda w: {
            "site": w["site"].pk,
            "name": "Hostile loop",
            "kind": "crah",
            "unit_capacity_kw": 50,
            "units": 2,
            "redundant_units": 0,
            "supply_temp_c": 22,
            "fluid": "air",
        },
        "supply_temp_c",
        zero="unit_capacity_kw",
        name="name",
    ),
    Endpoint(
        "nodes",
        "post",
        lambda w: f"{API}/nodes/",
        lambda w: {"rack": w["racks"][0].pk, "model": "cpu-2u", "u_position": 10, "name": "hostile-node"},
        "u_position",
        name="name",
    ),
    Endpoint(
        "placements-check",
        "post",
        lambda w: f"{API}/placements/check/",
        lambda w: {"rack": w["racks"][0].pk, "model": "cpu-2u", "quantity": 1},
        "quantity",
        created=200,
    ),
    Endpoint(
        "feasibility",
        "post",
        lambda w: f"{API}/feasibility/",
        lambda w: {"site": w["site"].pk, "model": "cpu-2u", "quantity": 1},
        "quantity",
        created=200,
    ),
    Endpoint(
        "tco",
        "post",
        lambda w: f"{API}/tco/",
        lambda w: {"site": w["site"].pk, "model": "cpu-2u", "quantity": 2, "utilization": 0.5},
        "utilization",
        zero="utilization",
        created=200,
    ),
    Endpoint(
        "patch-site",
        "patch",
        lambda w: f"{API}/sites/{w['site'].pk}/",
        lambda w: {"utility_capacity_kw": 2000},
        "utility_capacity_kw",
        zero="utility_capacity_kw",
        name="name",
        created=200,
    ),
    Endpoint(
        "patch-rack",
        "patch",
        lambda w: f"{API}/racks/{w['racks'][0].pk}/",
        lambda w: {"max_load_kg": 1500},
        "max_load_kg",
        zero="empty_weight_kg",
        name="name",
        created=200,
    ),
]
NAMED = [e for e in ENDPOINTS if e.name]
MODELS = {
    "sites": "racks.Site",
    "rooms": "racks.Room",
    "rows": "racks.Row",
    "racks": "racks.Rack",
    "pdus": "racks.Pdu",
    "power-sources": "racks.PowerSource",
    "cooling-loops": "cooling.CoolingLoop",
    "nodes": "racks.Node",
}
ZEROABLE = [e for e in ENDPOINTS if e.zero]


@pytest.fixture(scope="module")
def shared(django_db_setup, django_db_blocker):
    """One user, token and powered site for the whole module (this file sends ~700 requests; building them per
    test would dominate its run time). Made inside a transaction that is rolled back when the module ends; each
    test runs in a savepoint inside it, so what a test writes is undone as usual."""
    with django_db_blocker.unblock(), transaction.atomic():
        user = User.objects.create_user("hostile-fac")  # no password: never logs in, no hashing
        user.groups.add(Group.objects.get(name="facilities"))
        token = Token.objects.create(user=user)
        yield {"user": user, "token": token.key, "world": powered_site()}
        transaction.set_rollback(True)


@pytest.fixture
def world(db, shared):
    return shared["world"]


@pytest.fixture
def facilities_user(db, shared):
    return shared["user"]


@pytest.fixture
def api(db, shared):
    """A facilities (read-write) API client, token-authenticated."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {shared['token']}")
    return client


def send(client, endpoint: Endpoint, world, body, content_type="application/json"):
    """Send ``body`` (bytes or str as is; a dict as JSON) to the endpoint."""
    if isinstance(body, dict):
        body = json.dumps(body, ensure_ascii=False)
    return getattr(client, endpoint.method)(endpoint.path(world), body, content_type=content_type)


def vary(endpoint: Endpoint, world, number: int) -> dict:
    """The endpoint's valid payload made distinct (name, slug, position) for the ``number``-th create in a test."""
    payload = endpoint.payload(world)
    if endpoint.method != "post":
        return payload
    for key, step in (("position", 1), ("u_position", 2)):
        if key in payload:
            payload[key] += step * number
    for key in ("name", "slug"):
        if key in payload:
            payload[key] = f"{payload[key]}-{number}"
    return payload


def with_raw(payload: dict, field: str, token: str) -> bytes:
    """The payload as JSON text with ``field`` set to a raw token (NaN, 1e309, ...), as a hostile client sends."""
    text = json.dumps({**payload, field: MARK}, ensure_ascii=False)
    return text.replace(json.dumps(MARK), token).encode()


def messages_of(body) -> list[str]:
    if isinstance(body, str):
        return [body]
    if isinstance(body, dict):
        # The error shape's machine-readable code is not a message.
        return [m for key, value in body.items() if key != "code" for m in messages_of(value)]
    if isinstance(body, list):
        return [m for value in body for m in messages_of(value)]
    return []


def assert_refused(response, before: dict, status: int = 400, *, field: str | None = None, says: str = "") -> dict:
    """A refusal: the status, a JSON body with readable messages (naming ``field``), nothing written."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    messages = messages_of(body)
    assert messages and all(len(m) >= 10 for m in messages), body
    text = " ".join(messages)
    assert "Traceback" not in text and "<html" not in text.lower(), body
    if field is not None:
        assert field in body.get("errors", {}) or field in text, f"the answer does not name {field}: {body}"
    if says:
        assert says.lower() in text.lower(), body
    assert row_counts() == before, "a refused request wrote something"
    return body


# ------------------------------------------------------------------------------------------- the valid baseline


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_valid_payload_is_accepted(api, world, endpoint):
    """The templates are valid: every refusal below is caused by the hostile part alone."""
    response = send(api, endpoint, world, endpoint.payload(world))
    assert response.status_code == endpoint.created, response.content[:500]


# ----------------------------------------------------------------------------------------------- size and depth

TEN_MB = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def ten_mb_body() -> bytes:
    """A syntactically valid 10 MB JSON document, built once for the module."""
    return b'{"name": "' + b"x" * TEN_MB + b'"}'


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_ten_megabyte_body_is_413(api, world, endpoint, ten_mb_body):
    before = row_counts()
    response = send(api, endpoint, world, ten_mb_body)
    body = assert_refused(response, before, 413, says="too large")
    assert "limit is" in body["detail"] and "bytes" in body["detail"], body


def test_body_longer_than_declared_is_refused(api, world, ten_mb_body):
    """A client that understates Content-Length is cut off at the declared length: truncated JSON, 400."""
    from django.conf import settings

    before = row_counts()
    response = api.generic(
        "POST",
        f"{API}/sites/",
        ten_mb_body,
        content_type="application/json",
        CONTENT_LENGTH=str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2),
    )
    assert_refused(response, before, 400, says="JSON parse error")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_ten_thousand_levels_of_nesting_is_400(api, world, endpoint):
    before = row_counts()
    for nested in ("[" * 10_000 + "]" * 10_000, '{"a":' * 10_000 + "1" + "}" * 10_000):
        body = with_raw(endpoint.payload(world), endpoint.number, nested)
        assert_refused(send(api, endpoint, world, body), before, says="nested too deeply")


def test_nesting_as_the_whole_body_is_400(api):
    before = row_counts()
    for body in ("[" * 10_000 + "]" * 10_000, '{"a":' * 10_000 + "1" + "}" * 10_000):
        assert_refused(api.post(f"{API}/sites/", body, content_type="application/json"), before, says="nested")


def test_nesting_at_the_limit_is_parsed():
    """The limit is a limit, not an off-by-one: 64 levels decode, 65 do not."""
    from planner.api.parsers import MAX_JSON_DEPTH, loads_strict

    assert loads_strict("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    with pytest.raises(ValueError, match="nested too deeply"):
        loads_strict("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))


# ---------------------------------------------------------------------------------------------------- numbers

RAW_TOKENS = ["NaN", "Infinity", "-Infinity", "1e309", "-1e309", "1e300", "-1e300"]
STRING_TOKENS = ["NaN", "nan", "inf", "-inf", "Infinity", "1e309", "1e300"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_non_finite_or_huge_numbers_are_400_naming_the_field(api, world, endpoint):
    before = row_counts()
    for token in RAW_TOKENS:  # as raw JSON tokens, the way a hostile client or Python's json.dumps sends them
        body = with_raw(endpoint.payload(world), endpoint.number, token)
        assert_refused(send(api, endpoint, world, body), before, field=endpoint.number)
    for token in STRING_TOKENS:  # as strings, which DRF's number fields would otherwise parse with float()
        answer = assert_refused(send(api, endpoint, world, {**endpoint.payload(world), endpoint.number: token}), before)
        assert endpoint.number in answer["errors"], f"{token!r}: {endpoint.number} is not a key of {answer}"


def test_raw_nan_message_names_the_field_and_says_why(api):
    before = row_counts()
    body = with_raw({"name": "N", "slug": "n"}, "utility_capacity_kw", "NaN")
    answer = assert_refused(api.post(f"{API}/sites/", body, content_type="application/json"), before)
    assert answer["detail"] == (
        "JSON parse error - utility_capacity_kw: NaN is not a JSON number; use a finite number or null."
    )


def test_nested_raw_infinity_names_its_path(api, world):
    before = row_counts()
    body = with_raw({"site": world["site"].pk, "name": "L", "kind": "crah"}, "racks", "[1, Infinity]")
    answer = assert_refused(api.post(f"{API}/cooling-loops/", body, content_type="application/json"), before)
    assert answer["detail"].startswith("JSON parse error - racks[1]: Infinity is not a JSON number"), answer


@pytest.mark.parametrize("digits", ["9" * 20, "9" * 5000])
def test_integer_beyond_64_bits_is_400(api, world, digits):
    before = row_counts()
    body = with_raw(ENDPOINTS[7].payload(world), "u_position", digits)
    answer = assert_refused(api.post(f"{API}/nodes/", body, content_type="application/json"), before)
    assert "u_position: Integer" in answer["detail"] and "out of range" in answer["detail"], answer


@pytest.mark.parametrize("token", ["true", "false"])
def test_boolean_is_not_a_number(api, token):
    before = row_counts()
    body = with_raw({"name": "B", "slug": "b"}, "utility_capacity_kw", token)
    assert_refused(
        api.post(f"{API}/sites/", body, content_type="application/json"), before, field="utility_capacity_kw"
    )


# ------------------------------------------------------------------------------------------------ negative zero

NEGATIVE_ZEROS = ["-0.0", "-0", "-0e0", '"-0.0"']


@pytest.mark.parametrize("endpoint", ZEROABLE, ids=repr)
def test_negative_zero_is_zero_and_never_answered_as_negative(api, world, endpoint):
    """-0.0 is accepted as 0 where 0 is valid; no answer shows a negative zero."""
    resource = endpoint.path(world).split("/")[3]
    for number, spelling in enumerate(NEGATIVE_ZEROS):
        response = send(api, endpoint, world, with_raw(vary(endpoint, world, number), endpoint.zero, spelling))
        assert response.status_code == endpoint.created, (spelling, response.content[:500])
        assert b"-0.0" not in response.content and b"-0," not in response.content, (spelling, response.content)
        if endpoint.created == 200 and endpoint.method == "post":
            continue  # a question: nothing stored to read back
        assert response.json()[endpoint.zero] == 0.0
        again = api.get(f"{API}/{resource}/{response.json()['id']}/")
        assert again.status_code == 200 and again.json()[endpoint.zero] == 0.0
        assert b"-0.0" not in again.content and b"-0," not in again.content, (spelling, again.content)
        if resource == "sites":
            assert str(Site.objects.get(pk=response.json()["id"]).utility_capacity_kw) == "0.0"


def test_negative_zero_where_zero_is_refused_is_400(api, world):
    """The room's floor rating must be positive: -0.0 is 0, so it is refused like 0."""
    before = row_counts()
    body = with_raw(ENDPOINTS[1].payload(world), "floor_rated_load_kg_m2", "-0.0")
    response = api.post(f"{API}/rooms/", body, content_type="application/json")
    answer = assert_refused(response, before)
    assert "floor_rated_load_kg_m2" in answer["errors"], answer


def test_negative_zero_from_the_web_form_is_stored_as_zero(facilities_user, api):
    client = Client()
    client.force_login(facilities_user)
    response = client.post(
        "/sites/new/", {"name": "Zero", "slug": "zero", "power_derating": "0.8", "utility_capacity_kw": "-0"}
    )
    assert response.status_code == 302, response.content[:500]
    site = Site.objects.get(slug="zero")
    assert str(site.utility_capacity_kw) == "0.0"
    answer = api.get(f"{API}/sites/{site.pk}/")
    assert answer.json()["utility_capacity_kw"] == 0.0 and b"-0.0" not in answer.content


# ------------------------------------------------------------------------------------------------------- names

UNICODE_NAMES = [
    "Salle Sérveurs 東京 🚀",
    "Se\u0301rveurs",  # a combining accent: kept as sent, not normalised to NFC
    "👩\u200d🔧 équipe",  # an emoji with a zero-width joiner
    "غرفة الخوادم",  # right-to-left script, no override needed
    "Ωμέγα — \u2018quotes\u2019 & <b>tags</b>",  # typographic quotes, and markup kept as text
    "x" * 99 + "🚀",  # 100 characters, the column's limit, with one outside the BMP
]


@pytest.mark.parametrize("endpoint", NAMED, ids=repr)
def test_unicode_names_round_trip_exactly(api, world, endpoint):
    resource = endpoint.path(world).split("/")[3]
    for number, name in enumerate(UNICODE_NAMES):
        response = send(api, endpoint, world, {**vary(endpoint, world, number), endpoint.name: name})
        assert response.status_code == endpoint.created, (name, response.content[:500])
        assert response.json()[endpoint.name] == name
        again = api.get(f"{API}/{resource}/{response.json()['id']}/")
        assert again.status_code == 200 and again.json()[endpoint.name] == name
        stored = apps.get_model(MODELS[resource]).objects.get(pk=response.json()["id"])
        assert getattr(stored, endpoint.name) == name


def test_ascii_escaped_unicode_is_the_same_name(api):
    name = "Salle Sérveurs 東京 🚀"
    body = json.dumps({"name": name, "slug": "esc"})  # ensure_ascii: \u00e9, \ud83d\ude80 surrogate pair
    assert "\\ud83d" in body
    response = api.post(f"{API}/sites/", body, content_type="application/json")
    assert response.status_code == 201 and response.json()["name"] == name
    assert Site.objects.get(slug="esc").name == name
    listed = api.get(f"{API}/sites/", {"slug": "esc"}).json()["results"]
    assert [item["name"] for item in listed] == [name]


CONTROL_NAMES = {
    "nul": "Hall\x00A",
    "bell": "Hall\x07A",
    "newline": "Hall\nA",
    "carriage-return": "Hall\rA",
    "tab": "Hall\tA",
    "delete": "Hall\x7fA",
    "c1-next-line": "Hall\x85A",
    "bidi-override": "Hall \u202eA-llaH",
    "bidi-isolate": "Hall \u2066A\u2069",
    "line-separator": "Hall\u2028A",
    "paragraph-separator": "Hall\u2029A",
}


@pytest.mark.parametrize("endpoint", NAMED, ids=repr)
def test_control_characters_in_a_name_are_400(api, world, endpoint):
    before = row_counts()
    for label, name in CONTROL_NAMES.items():
        answer = assert_refused(send(api, endpoint, world, {**endpoint.payload(world), endpoint.name: name}), before)
        assert endpoint.name in answer["errors"] and "not allowed" in " ".join(answer["errors"][endpoint.name]), (
            label,
            answer,
        )


def test_surrogate_escape_in_a_name_is_400(api):
    before = row_counts()
    response = api.post(f"{API}/sites/", b'{"name": "a\\ud800b", "slug": "sur"}', content_type="application/json")
    assert_refused(response, before, field="name")


# ---------------------------------------------------------------------------------------- encoding and media type

INVALID_UTF8 = {
    "lone-continuation": b"\x80",
    "ff-fe": b"\xff\xfe",
    "overlong-slash": b"\xc0\xaf",
    "truncated-3-byte": b"\xe6\x9d",
    "encoded-surrogate": b"\xed\xa0\x80",
}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_invalid_utf8_is_400(api, world, endpoint):
    before = row_counts()
    template = json.dumps({**endpoint.payload(world), "name": MARK}).encode()
    for label, raw in INVALID_UTF8.items():
        body = template.replace(MARK.encode(), b"bad " + raw + b" name")
        response = send(api, endpoint, world, body)
        assert response.status_code == 400, label
        assert_refused(response, before, says="not valid utf-8")


WRONG_TYPES = ["text/plain", "application/xml", "text/csv", "application/octet-stream"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
def test_wrong_content_type_is_415(api, world, endpoint):
    before = row_counts()
    body = json.dumps(endpoint.payload(world))
    for content_type in WRONG_TYPES:
        response = send(api, endpoint, world, body, content_type=content_type)
        answer = assert_refused(response, before, 415, says="unsupported media type")
        assert content_type in answer["detail"], answer


@pytest.mark.parametrize("body", [b"", b"{", b'{"name": }', b"{'name': 'x'}", b"null", b"[]", b'"a string"', b"42"])
def test_malformed_or_non_object_json_is_400(api, body):
    before = row_counts()
    assert_refused(api.post(f"{API}/sites/", body, content_type="application/json"), before)


# ------------------------------------------------------------------------------------------------------ web form


@pytest.mark.parametrize("name", ["Bad\x07name", "Bad\nname", "Bad\x00name", "Bad \u202ename"])
def test_web_form_refuses_control_characters_and_writes_nothing(facilities_user, name):
    client = Client()
    client.force_login(facilities_user)
    before = row_counts()
    response = client.post("/sites/new/", {"name": name, "slug": "bad-name", "power_derating": "0.8"})
    assert response.status_code == 400  # the form is re-rendered with the error
    page = response.content.decode()
    assert "not allowed" in page and 'id="id_name_error"' in page, page[:2000]
    assert 'aria-invalid="true"' in page
    assert row_counts() == before


def test_web_form_keeps_a_unicode_name_exactly(facilities_user):
    client = Client()
    client.force_login(facilities_user)
    name = "Salle Sérveurs 東京 🚀"
    response = client.post("/sites/new/", {"name": name, "slug": "tokyo", "power_derating": "0.8"})
    assert response.status_code == 302, response.content[:1000]
    assert Site.objects.get(slug="tokyo").name == name
    assert name in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("value", ["NaN", "inf", "-inf", "1e309", "1e300"])
def test_web_form_refuses_non_finite_numbers(facilities_user, value):
    client = Client()
    client.force_login(facilities_user)
    before = row_counts()
    response = client.post(
        "/sites/new/", {"name": "Num", "slug": "num", "power_derating": "0.8", "utility_capacity_kw": value}
    )
    assert response.status_code == 400
    assert 'id="id_utility_capacity_kw_error"' in response.content.decode()
    assert row_counts() == before
