"""The one language rule, and how a message with no words of its own keeps the conversation's."""

import pytest

from kefu.vocab import conversation_lang, detect_lang, is_neutral
from kefu.vocab.lang import sentences
from kefu.vocab.places import abroad, named_countries


@pytest.mark.parametrize("text", ["KF100001", "avery_lee@example.com", "3000", "👍", "  ", "#1042 !",
                                  "https://shop.example/o/1"])
def test_neutral_messages(text: str) -> None:
    assert is_neutral(text)


@pytest.mark.parametrize("text", ["yes", "ok", "是的", "order KF100001", "好的 avery@example.com"])
def test_messages_with_words_are_not_neutral(text: str) -> None:
    assert not is_neutral(text)


def test_a_neutral_reply_keeps_the_chinese_of_the_conversation() -> None:
    earlier = ["我的订单KF100001到哪了？"]
    assert conversation_lang("avery_lee@example.com", earlier) == "zh"
    assert conversation_lang("KF100001", ["where is my order?", "3000"]) == "en"


def test_a_message_in_a_language_decides_for_itself() -> None:
    assert conversation_lang("thanks", ["我的订单到哪了"]) == "en"
    assert conversation_lang("谢谢", ["where is my order?"]) == "zh"
    assert conversation_lang("12345") == detect_lang("12345") == "en"


@pytest.mark.parametrize(("text", "want"), [
    ('Open the order (or give us the order number, e.g. KF100042) and choose "Return items"; we email you. '
     "Return shipping is free.",
     ['Open the order (or give us the order number, e.g. KF100042) and choose "Return items"; we email you.',
      "Return shipping is free."]),
    ("It costs $5.99. U.S. orders ship free. Done!", ["It costs $5.99.", "U.S. orders ship free.", "Done!"]),
    ("你好。我们发货到加拿大吗？可以！好的", ["你好。", "我们发货到加拿大吗？", "可以！", "好的"]),
    ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
])
def test_sentences_do_not_end_at_abbreviations(text: str, want: list[str]) -> None:
    assert sentences(text) == want


@pytest.mark.parametrize(("text", "countries", "is_abroad"), [
    ("Do you deliver in Canada", ["CA"], True),
    ("Do u have delivery at kerala", ["IN"], True),
    ("494001 jagdalpur chhattisgarh", ["IN"], True),
    ("你们发货到加拿大吗", ["CA"], True),
    ("发货到香港吗", ["HK"], True),
    ("do you ship to Georgia?", ["US"], False),  # the home country's state before the country
    ("ship to new york", ["US"], False),
    ("do you ship overseas?", [], True),
    ("where is my order", [], False),
])
def test_places_outside_the_shops_country(text: str, countries: list[str], is_abroad: bool) -> None:
    assert named_countries(text, "US") == countries
    assert abroad(text, "US") is is_abroad
