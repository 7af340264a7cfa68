"""The live preview: a post drawn as the WeChat bubbles its group will get.

The bubbles come from the bot's own renderer, `post_messages` (bot/posts/publisher.py): the
text parts exactly as `render_parts` splits them, @所有人 on the first, then the pictures, the
link card and the group announcement, in the order they are sent. A form being typed is
previewed the same way: it becomes a Post in memory, never a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.core.errors import UserError
from bot.core.messages import MENTION_ALL, LinkCard, OutKind
from bot.posts.editing import PostFields, link_of
from bot.posts.files import Post, PostMeta
from bot.posts.publisher import post_messages

PREVIEW_CHAT = "preview"


@dataclass(frozen=True)
class Bubble:
    kind: str  # text, image, link or announcement
    text: str = ""
    part: str = ""  # "2/3" for a body sent in parts
    mention_all: bool = False
    image: str = ""  # the picture's name in the post folder
    link: LinkCard | None = None


@dataclass(frozen=True)
class Preview:
    post_id: str  # whose pictures the bubbles show
    sender: str  # the bot's WeChat name: the group sees its posts under it
    bubbles: list[Bubble]
    characters: int  # of the body
    max_length: int  # of a text part (sending.max_text_length)
    problems: list[str] = field(default_factory=list)

    @property
    def initial(self) -> str:
        return self.sender[:1] or "商"

    @property
    def parts(self) -> int:
        return sum(bubble.kind == "text" for bubble in self.bubbles)


def preview_of(post: Post, max_length: int, sender: str, problems: list[str] | None = None
               ) -> Preview:
    problems = list(problems or [])
    if not post.title and not post.body:
        return Preview(post.id, sender, [], 0, max_length, problems)
    try:
        messages = post_messages(post, PREVIEW_CHAT, max_length)
    except UserError as error:  # a picture that cannot be read: the rest is still worth seeing
        problems.append(str(error))
        bare = post.meta.model_copy(update={"images": []})
        post = Post(post.id, bare, post.body, post.path, None)
        messages = post_messages(post, PREVIEW_CHAT, max_length)
    texts = sum(message.kind is OutKind.TEXT for message in messages)
    pictures = iter(post.meta.images)  # post_messages sends them in this order
    bubbles: list[Bubble] = []
    number = 0  # of the text part
    for message in messages:
        if message.kind is OutKind.IMAGE:
            bubbles.append(Bubble("image", image=next(pictures)))
        elif message.kind is OutKind.LINK:
            bubbles.append(Bubble("link", link=message.link))
        elif message.kind is OutKind.ANNOUNCEMENT:
            bubbles.append(Bubble("announcement", text=message.text))
        else:
            number += 1
            bubbles.append(Bubble("text", message.text, f"{number}/{texts}" if texts > 1 else "",
                                  mention_all=MENTION_ALL in message.mention_ids))
    return Preview(post.id, sender, bubbles, len(post.body), max_length, problems)


def typed_post(fields: PostFields, post_id: str, path: Path, shown_images: set[str]) -> tuple[
        Post, list[str]]:
    """The form as a Post in memory, and what keeps parts of it out of the preview. Only
    pictures the page may show (the saved post's own) are drawn."""
    problems = []
    try:
        link = link_of(fields)
    except UserError as error:
        link, problems = None, [str(error)]
    images = [name for name in fields.images if name in shown_images]
    if len(images) < len(fields.images):
        problems.append("重新勾选的图片保存后才显示在预览里。")
    meta = PostMeta.model_construct(
        title=" ".join(fields.title.split()), mention_all=fields.mention_all,
        set_announcement=fields.set_announcement, images=images, link=link)
    body = fields.body.replace("\r\n", "\n").replace("\r", "\n").strip()
    return Post(post_id, meta, body, path, None), problems
