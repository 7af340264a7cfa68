"""Nothing anyone types breaks a post's parts (property tests).

The command parser, the FAQ and congratulation matchers and the other readers of members'
text are fuzzed in tests/test_fuzz_chat.py and tests/test_fuzz_files.py. These follow the
Hypothesis profile too: 200 cases in the suite, 10,000 under `make fuzz`.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.posts.render import render_parts

# Chinese, full-width forms, emoji, WeChat markup and the characters gateways put in text.
TEXT = st.text(alphabet=st.one_of(
    st.characters(), st.sampled_from("電话邮编地址恭喜[强]🌹👍？?#＃「」：-\n\u2005@ ")), max_size=200)


@given(TEXT, st.integers(min_value=40, max_value=3000))
def test_parts_keep_every_paragraph_within_the_limit(body: str, limit: int) -> None:
    parts = render_parts("标题", body, limit)
    assert all(len(part) <= limit for part in parts)


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40),
       st.lists(st.integers(1, 2500), min_size=1, max_size=4),
       st.integers(min_value=200, max_value=2000))
def test_no_part_is_longer_than_the_limit_whatever_the_title(
    title: str, lengths: list[int], limit: int
) -> None:
    body = "\n\n".join("会" * length for length in lengths)  # paragraphs without sentence ends
    parts = render_parts(title, body, limit)
    assert all(len(part) <= limit for part in parts)
    assert "".join(part.split("\n\n", 1)[1] for part in parts).replace("\n\n", "") == (
        body.replace("\n\n", ""))  # nothing lost


def test_a_long_paragraph_after_a_title_fits_the_first_part() -> None:
    title = "喜讯：山西省山东商会被评为2019-2020年度全国“四好”商会"  # 30 characters
    parts = render_parts(title, "好" * 1980, 2000)  # this gave a 2,008-character first part
    assert len(parts) == 2 and max(len(part) for part in parts) <= 2000
    assert parts[0].startswith(f"{title}（1/2）\n\n好")
