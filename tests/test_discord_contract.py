"""The contract check itself: it must refuse what Discord would refuse."""

from __future__ import annotations

from tests.discord_contract import limit_problems, schema_problems

CALLBACK = "/interactions/1/token/callback"
NO_PINGS = {"parse": []}


def message_callback(**data):
    return {"type": 4, "data": {"allowed_mentions": NO_PINGS, **data}}


def test_a_well_formed_reply_passes():
    body = message_callback(
        content="hi", embeds=[{"title": "t", "fields": [{"name": "a", "value": "b"}]}]
    )
    assert schema_problems("POST", CALLBACK, body) == []
    assert limit_problems("POST", CALLBACK, body) == []


def test_wrong_types_are_caught_by_the_spec():
    body = message_callback(embeds=[{"title": 5}])
    assert schema_problems("POST", CALLBACK, body)


def test_unknown_routes_are_reported():
    assert schema_problems("POST", "/no/such/route", {}) == [
        "POST /no/such/route: no such route in Discord's OpenAPI spec"
    ]


def test_six_thousand_characters_over_all_embeds_is_the_limit():
    embeds = [{"description": "x" * 4000}, {"description": "y" * 2001}]
    problems = limit_problems("POST", CALLBACK, message_callback(embeds=embeds))
    assert problems == [f"POST {CALLBACK}: embeds total 6001 characters (limit 6000)"]
    embeds[1]["description"] = "y" * 2000
    assert limit_problems("POST", CALLBACK, message_callback(embeds=embeds)) == []


def test_field_count_and_sizes_are_limited():
    fields = [{"name": "n", "value": "v"}] * 26 + [{"name": "n" * 257, "value": "v" * 1025}]
    problems = limit_problems("POST", CALLBACK, message_callback(embeds=[{"fields": fields}]))
    assert any("27 fields" in p for p in problems)
    assert any("field name" in p for p in problems) and any("field value" in p for p in problems)


def test_messages_must_not_ping():
    body = {"type": 4, "data": {"content": "@everyone"}}
    assert limit_problems("POST", CALLBACK, body) == [
        f"POST {CALLBACK}: allowed_mentions must be set and parse nothing"
    ]
    body["data"]["allowed_mentions"] = {"parse": ["everyone"]}
    assert limit_problems("POST", CALLBACK, body)


def test_autocomplete_has_at_most_25_choices_of_100_characters():
    choices = [{"name": f"c{n}", "value": f"c{n}"} for n in range(26)]
    assert limit_problems("POST", CALLBACK, {"type": 8, "data": {"choices": choices}})
    long_name = [{"name": "x" * 101, "value": "x"}]
    assert limit_problems("POST", CALLBACK, {"type": 8, "data": {"choices": long_name}})


def test_command_definitions_are_checked():
    commands = [{"name": "Bad Name", "description": "", "type": 1}]
    problems = limit_problems("PUT", "/applications/1/commands", commands)
    assert len(problems) == 2
