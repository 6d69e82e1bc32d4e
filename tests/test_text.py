from bot.text import plain_text, shorten, telegram_html


def test_server_html_becomes_telegram_html() -> None:
    raw = '<p>Send <span class="x">exactly</span> <b>10 000 RUB</b><br>to card <a href="https://e.x/?a=1&b=2">here</a></p>'
    assert (
        telegram_html(raw)
        == 'Send exactly <b>10 000 RUB</b>\nto card <a href="https://e.x/?a=1&amp;b=2">here</a>'
    )


def test_unsafe_markup_is_dropped_and_text_escaped() -> None:
    raw = '<script>alert(1)</script><a href="javascript:x()">click</a> 1 < 2 & <i>unclosed'
    assert telegram_html(raw) == "alert(1)click 1 &lt; 2 &amp; <i>unclosed</i>"
    assert plain_text("<span>Invalid <b>wallet</b></span>") == "Invalid wallet"


def test_long_texts_are_cut_as_plain_text() -> None:
    raw = "<p><b>" + "word " * 1000 + "</b></p>"
    cut = telegram_html(raw, limit=100)
    assert len(cut) == 100 and cut.endswith("…") and "<b>" not in cut
    assert telegram_html("<b>short</b>", limit=100) == "<b>short</b>"


def test_shorten_keeps_both_ends() -> None:
    assert shorten("T" + "9" * 40 + "Z", 11) == "T9999…9999Z"
    assert shorten("short", 11) == "short"
