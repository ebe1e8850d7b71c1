"""Message content as input: the parts (`ContentPartInput`, a @oneOf) and the rule for a
message's content, given as `content` (plain text) or `contentParts` (parts), shared by
`MessageInput` and the edits of `UpdateMessageInput`."""

import strawberry
from strawberry import UNSET

from app import domain, validation
from app.errors import InvalidInput
from app.graphql.enums import ImageDetail


@strawberry.input(description="An image on the web.")
class ImageUrlInput:
    url: str = strawberry.field(
        description=f"An http(s) URL, at most {validation.MAX_URL:,} characters."
    )
    detail: ImageDetail = strawberry.field(default=ImageDetail.AUTO, description="Detail level.")


@strawberry.input(description="An uploaded image file.")
class ImageFileInput:
    file_id: str = strawberry.field(description="The file id.")
    detail: ImageDetail = strawberry.field(default=ImageDetail.AUTO, description="Detail level.")


@strawberry.input(one_of=True, description="One part of a message: exactly one field is set.")
class ContentPartInput:
    text: str | None = strawberry.field(default=UNSET, description="A text part.")
    image_url: ImageUrlInput | None = strawberry.field(default=UNSET, description="An image URL.")
    image_file: ImageFileInput | None = strawberry.field(
        default=UNSET, description="An image file."
    )

    def to_domain(self, *, field: str) -> domain.ContentPart:
        if self.image_url:
            url = validation.image_url(self.image_url.url, field=f"{field}.imageUrl.url")
            return domain.ImageUrlPart(
                url=url, detail=domain.ImageDetail[self.image_url.detail.name]
            )
        if self.image_file:
            file_id = validation.reference(
                self.image_file.file_id, field=f"{field}.imageFile.fileId"
            )
            assert file_id is not None
            return domain.ImageFilePart(
                file_id=file_id, detail=domain.ImageDetail[self.image_file.detail.name]
            )
        assert isinstance(self.text, str)  # @oneOf: exactly one is set
        return domain.TextPart(validation.content(self.text, field=f"{field}.text"))


def message_content(
    text: str | None, parts: list[ContentPartInput] | None, *, field: str, required: bool = True
) -> tuple[domain.ContentPart, ...] | None:
    """A message's content from one of `content` and `contentParts` (None if neither is given
    and none is `required`), its total length checked."""
    has_text, has_parts = isinstance(text, str), isinstance(parts, list)
    if (has_text and has_parts) or (required and not (has_text or has_parts)):
        needs = "needs exactly" if required else "takes at most"
        raise InvalidInput(field, f"{field} {needs} one of content and contentParts.")
    if isinstance(text, str):
        return (domain.TextPart(validation.content(text, field=f"{field}.content")),)
    if not isinstance(parts, list):
        return None
    validation.count(
        parts, field=f"{field}.contentParts", min_items=1, max_items=validation.MAX_CONTENT_PARTS
    )
    content = tuple(
        part.to_domain(field=f"{field}.contentParts.{index}") for index, part in enumerate(parts)
    )
    total = sum(len(part.value) for part in content if isinstance(part, domain.TextPart))
    if total > validation.MAX_CONTENT:
        raise InvalidInput(
            field, f"{field} text must total at most {validation.MAX_CONTENT:,} characters."
        )
    return content
