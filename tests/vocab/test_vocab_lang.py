"""The one language rule, and how a message with no words of its own keeps the conversation's."""

import pytest

from kefu.vocab import conversation_lang, detect_lang, is_neutral


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
