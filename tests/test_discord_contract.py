"""The contract check itself: it must refuse what Discord would refuse, naming the limit or
field, and accept what Discord accepts up to each limit exactly."""

from __future__ import annotations

from tests.discord_contract import limit_problems, problems_in, schema_problems

CALLBACK = "/interactions/1/token/callback"
CALLBACK_ROUTE = "/interactions/{interaction_id}/{interaction_token}/callback"
WHERE = f"POST {CALLBACK}"
MESSAGES = "/channels/1/messages"
NO_PINGS = {"parse": []}
V2 = 1 << 15  # IS_COMPONENTS_V2


def message_callback(**data):
    return {"type": 4, "data": {"allowed_mentions": NO_PINGS, **data}}


def autocomplete(choices):
    return {"type": 8, "data": {"choices": choices}}


def both(body, path=CALLBACK) -> list[str]:
    """What the spec and the limits find in a POST of `body`."""
    return schema_problems("POST", path, body) + limit_problems("POST", path, body)


def button(n: int, custom_id: str | None = None) -> dict:
    return {"type": 2, "style": 1, "label": f"b{n}", "custom_id": custom_id or f"stackup:b{n}"}


def row(*components: dict) -> dict:
    return {"type": 1, "components": list(components)}


def text(content: str) -> dict:
    return {"type": 10, "content": content}


def v2_message(*components: dict) -> dict:
    return {"flags": V2, "components": list(components), "allowed_mentions": NO_PINGS}


# ---------------------------------------------------------------- accepted, up to each limit


def test_a_well_formed_reply_passes():
    body = message_callback(
        content="hi", embeds=[{"title": "t", "fields": [{"name": "a", "value": "b"}]}]
    )
    assert both(body) == []


def test_autocomplete_takes_25_choices_with_names_of_100_characters():
    choices = [{"name": f"{n:02d}".ljust(100, "x"), "value": f"v{n}"} for n in range(25)]
    assert both(autocomplete(choices)) == []


def test_a_message_takes_2000_characters_and_10_embeds_of_6000_characters_in_all():
    embeds = [{"description": "x" * 600} for _ in range(10)]
    assert both(message_callback(content="c" * 2000, embeds=embeds)) == []


def test_an_embed_takes_25_fields_at_their_sizes():
    fields = [{"name": "n" * 256, "value": "v" * 1024}] + [{"name": "n", "value": "v"}] * 24
    assert both(message_callback(embeds=[{"title": "t" * 256, "fields": fields}])) == []


def test_a_message_takes_5_rows_of_5_buttons_with_custom_ids_of_100_characters():
    rows = [
        row(*(button(r * 5 + b, f"{r}{b}".ljust(100, "x")) for b in range(5))) for r in range(5)
    ]
    assert both(message_callback(content="pick", components=rows)) == []
    assert (
        both({"content": "pick", "components": rows, "allowed_mentions": NO_PINGS}, MESSAGES) == []
    )


def test_a_components_v2_message_takes_40_components_and_4000_characters_of_text():
    # 1 container + 19 text displays + 4 rows of 4 buttons (20) = 40, nested ones counted.
    texts = [text("t" * 200) for _ in range(19)]
    texts[0]["content"] = "t" * (4000 - 18 * 200)  # 4000 characters over all text displays
    rows = [row(*(button(r * 4 + b) for b in range(4))) for r in range(4)]
    assert both(v2_message({"type": 17, "components": [*texts, *rows]}), MESSAGES) == []
    # A section's accessory counts too: 3 + 37 = 40. So do 40 text displays at the top level.
    section = {"type": 9, "components": [text("s")], "accessory": button(0)}
    assert both(v2_message(section, *(text("x") for _ in range(37))), MESSAGES) == []
    assert both(v2_message(*(text("x") for _ in range(40))), MESSAGES) == []


# ---------------------------------------------------------------- refused, and what names it


def test_wrong_types_are_caught_by_the_spec_naming_the_field():
    assert schema_problems("POST", CALLBACK, message_callback(embeds=[{"title": 5}])) == [
        f"POST {CALLBACK_ROUTE}: data/embeds/0/title: 5 is not of type 'string', 'null'"
    ]
    assert schema_problems("POST", CALLBACK, autocomplete([{"name": 5, "value": "x"}])) == [
        f"POST {CALLBACK_ROUTE}: data/choices/0/name: 5 is not of type 'string'"
    ]
    assert schema_problems("POST", MESSAGES, {"content": 5}) == [
        "POST /channels/{channel_id}/messages: content: 5 is not of type 'string', 'null'"
    ]


def test_unknown_routes_are_reported():
    assert schema_problems("POST", "/no/such/route", {}) == [
        "POST /no/such/route: no such route in Discord's OpenAPI spec"
    ]


def test_content_over_2000_characters_is_refused():
    assert limit_problems("POST", CALLBACK, message_callback(content="c" * 2001)) == [
        f"{WHERE}: content is 2001 characters (limit 2000)"
    ]


def test_six_thousand_characters_over_all_embeds_is_the_limit():
    embeds = [{"description": "x" * 4000}, {"description": "y" * 2001}]
    assert limit_problems("POST", CALLBACK, message_callback(embeds=embeds)) == [
        f"{WHERE}: embeds total 6001 characters (limit 6000)"
    ]
    embeds[1]["description"] = "y" * 2000
    assert limit_problems("POST", CALLBACK, message_callback(embeds=embeds)) == []


def test_more_than_10_embeds_are_refused():
    embeds = [{"title": "t"} for _ in range(11)]
    assert limit_problems("POST", CALLBACK, message_callback(embeds=embeds)) == [
        f"{WHERE}: 11 embeds (limit 10)"
    ]


def test_embed_titles_and_descriptions_are_limited():
    embed = {"title": "t" * 257, "description": "d" * 4097}
    assert limit_problems("POST", CALLBACK, message_callback(embeds=[embed])) == [
        f"{WHERE}: embed 0 title over 256",
        f"{WHERE}: embed 0 description over 4096",
    ]


def test_field_count_and_sizes_are_limited():
    fields = [{"name": "n", "value": "v"}] * 25 + [{"name": "n" * 257, "value": "v" * 1025}]
    problems = limit_problems("POST", CALLBACK, message_callback(embeds=[{"fields": fields}]))
    assert problems == [
        f"{WHERE}: embed 0 has 26 fields (limit 25)",
        f"{WHERE}: embed 0 field name empty or over 256",
        f"{WHERE}: embed 0 field value empty or over 1024",
    ]


def test_messages_must_not_ping():
    body = {"type": 4, "data": {"content": "@everyone"}}
    assert limit_problems("POST", CALLBACK, body) == [
        f"{WHERE}: allowed_mentions must be set and parse nothing"
    ]
    body["data"]["allowed_mentions"] = {"parse": ["everyone"]}
    assert limit_problems("POST", CALLBACK, body) == [
        f"{WHERE}: allowed_mentions must be set and parse nothing"
    ]


def test_autocomplete_has_at_most_25_choices_of_100_characters():
    choices = [{"name": f"c{n}", "value": f"c{n}"} for n in range(26)]
    assert limit_problems("POST", CALLBACK, autocomplete(choices)) == [
        f"{WHERE}: 26 autocomplete choices (limit 25)"
    ]
    assert limit_problems("POST", CALLBACK, autocomplete([{"name": "x" * 101, "value": "x"}])) == [
        f"{WHERE}: choice name must be 1-100 characters"
    ]
    assert limit_problems("POST", CALLBACK, autocomplete([{"name": "x", "value": "v" * 101}])) == [
        f"{WHERE}: choice value over 100 characters"
    ]


def test_custom_ids_and_labels_are_limited_also_when_nested():
    long_id = button(1, "x" * 101)
    assert limit_problems("POST", CALLBACK, message_callback(components=[row(long_id)])) == [
        f"{WHERE}: custom_id over 100 characters"
    ]
    section = {"type": 9, "components": [text("s")], "accessory": {**button(2), "label": "l" * 81}}
    assert limit_problems("POST", MESSAGES, v2_message(section)) == [
        f"POST {MESSAGES}: button label over 80 characters"
    ]


def test_six_buttons_in_a_row_or_six_rows_are_refused():
    six_buttons = row(*(button(b) for b in range(6)))
    assert limit_problems("POST", CALLBACK, message_callback(components=[six_buttons])) == [
        f"{WHERE}: an action row has 6 components (limit 5)"
    ]
    six_rows = [row(button(r)) for r in range(6)]
    assert limit_problems("POST", CALLBACK, message_callback(components=six_rows)) == [
        f"{WHERE}: 6 action rows (limit 5)"
    ]
    select = {"type": 3, "custom_id": "stackup:pick", "options": [{"label": "a", "value": "a"}]}
    assert limit_problems(
        "POST", CALLBACK, message_callback(components=[row(select, button(1))])
    ) == [f"{WHERE}: a select menu must be alone in its action row"]


def test_a_components_v2_message_takes_no_more_than_40_components_counting_nested_ones():
    # 1 container + 20 text displays + 4 rows of 5 buttons (24) = 45.
    rows = [row(*(button(r * 5 + b) for b in range(5))) for r in range(4)]
    body = v2_message({"type": 17, "components": [*(text("t") for _ in range(20)), *rows]})
    assert limit_problems("POST", MESSAGES, body) == [
        f"POST {MESSAGES}: 45 components, nested ones included (limit 40 with IS_COMPONENTS_V2)"
    ]
    # 41 at the top level: too many components, though not too many rows for V2.
    body = v2_message(*(text("x") for _ in range(41)))
    assert limit_problems("POST", MESSAGES, body) == [
        f"POST {MESSAGES}: 41 components, nested ones included (limit 40 with IS_COMPONENTS_V2)"
    ]


def test_a_components_v2_message_takes_no_more_than_4000_characters_of_text():
    body = v2_message(text("a" * 2000), {"type": 17, "components": [text("b" * 2001)]})
    assert limit_problems("POST", MESSAGES, body) == [
        f"POST {MESSAGES}: text displays total 4001 characters (limit 4000 with IS_COMPONENTS_V2)"
    ]
    # Without the flag the text counts towards no total, but the components are refused.
    body["flags"] = 0
    assert limit_problems("POST", MESSAGES, body) == [
        f"POST {MESSAGES}: a message without IS_COMPONENTS_V2 takes no TEXT_DISPLAY (type 10)",
        f"POST {MESSAGES}: a message without IS_COMPONENTS_V2 takes no CONTAINER (type 17)",
    ]


def test_a_components_v2_message_has_no_content_embeds_poll_or_stickers():
    body = {**v2_message(text("hi")), "content": "hello"}
    assert limit_problems("POST", MESSAGES, body) == [
        f"POST {MESSAGES}: content cannot go with IS_COMPONENTS_V2"
    ]
    body = {**body, "embeds": [{"title": "t"}], "poll": {"question": {"text": "?"}}}
    assert limit_problems("POST", MESSAGES, body) == [
        f"POST {MESSAGES}: content and embeds and poll cannot go with IS_COMPONENTS_V2"
    ]
    body = {**v2_message(text("hi")), "sticker_ids": ["1"]}
    assert limit_problems("POST", CALLBACK, {"type": 4, "data": body}) == [
        f"{WHERE}: sticker_ids cannot go with IS_COMPONENTS_V2"
    ]


def test_a_components_v2_message_takes_each_component_type_only_where_the_spec_does():
    thumbnail = {"type": 11, "media": {"url": "attachment://x.png"}}
    gallery = {"type": 12, "items": [{"media": {"url": "attachment://x.png"}}]}
    # Where the spec allows them: a gallery in a container, a thumbnail beside a section.
    section = {"type": 9, "components": [text("s")], "accessory": thumbnail}
    assert both(v2_message({"type": 17, "components": [gallery, section]}), MESSAGES) == []
    # A thumbnail alone in a container, a container in a container, a gallery in a section,
    # a button outside a row, and a type Discord does not have.
    body = v2_message(
        {"type": 17, "components": [thumbnail, {"type": 17, "components": [text("x")]}]},
        {"type": 9, "components": [gallery], "accessory": button(1)},
        button(2),
        {"type": 99},
    )
    assert limit_problems("POST", MESSAGES, body) == [
        f"POST {MESSAGES}: a CONTAINER takes no THUMBNAIL (type 11)",
        f"POST {MESSAGES}: a CONTAINER takes no CONTAINER (type 17)",
        f"POST {MESSAGES}: a SECTION takes no MEDIA_GALLERY (type 12)",
        f"POST {MESSAGES}: a Components V2 message takes no BUTTON (type 2)",
        f"POST {MESSAGES}: a Components V2 message takes no unknown component (type 99)",
    ]


def test_without_the_v2_flag_a_message_takes_action_rows_only_but_an_edit_may_omit_it():
    body = {"components": [row(button(1)), text("hi")], "allowed_mentions": NO_PINGS}
    problem = "a message without IS_COMPONENTS_V2 takes no TEXT_DISPLAY (type 10)"
    assert limit_problems("POST", MESSAGES, body) == [f"POST {MESSAGES}: {problem}"]
    assert limit_problems("POST", CALLBACK, message_callback(**body)) == [f"{WHERE}: {problem}"]
    # An edit keeps the flags the message was sent with, so it need not repeat them.
    assert limit_problems("PATCH", f"{MESSAGES}/2", body) == []
    assert limit_problems("POST", CALLBACK, {"type": 7, "data": body}) == []


def test_command_definitions_are_checked():
    commands = [{"name": "Bad Name", "description": "", "type": 1}]
    assert limit_problems("PUT", "/applications/1/commands", commands) == [
        "PUT /applications/1/commands: command name 'Bad Name' is not 1-32 lowercase characters",
        "PUT /applications/1/commands: /Bad Name description must be 1-100",
    ]


def test_problems_in_reads_recorded_requests():
    class Request:
        method, path, json = "POST", MESSAGES, {"content": "c" * 2001, "allowed_mentions": NO_PINGS}

    assert problems_in([Request()]) == [f"POST {MESSAGES}: content is 2001 characters (limit 2000)"]
