"""The parts of a message's content, and their annotations."""

from typing import Annotated

import strawberry

from app import domain
from app.graphql.enums import ImageDetail


@strawberry.type(description="A span of text that cites a file.")
class FileCitationAnnotation:
    text: str = strawberry.field(description="The text in the message that is annotated.")
    start_index: int = strawberry.field(description="Start of the span in the text value.")
    end_index: int = strawberry.field(description="End of the span in the text value.")
    file_id: str = strawberry.field(description="The cited file.")


@strawberry.type(description="A span of text that is a path to a generated file.")
class FilePathAnnotation:
    text: str = strawberry.field(description="The text in the message that is annotated.")
    start_index: int = strawberry.field(description="Start of the span in the text value.")
    end_index: int = strawberry.field(description="End of the span in the text value.")
    file_id: str = strawberry.field(description="The generated file.")


Annotation = Annotated[
    FileCitationAnnotation | FilePathAnnotation,
    strawberry.union("Annotation", description="A note on a span of a text part."),
]


@strawberry.type(description="Text with its annotations.")
class Text:
    value: str = strawberry.field(description="The text.")
    annotations: list[Annotation] = strawberry.field(description="Notes on spans of the text.")


@strawberry.type(description="A text part of a message.")
class TextContent:
    text: Text = strawberry.field(description="The text.")


@strawberry.type(description="An uploaded image file.")
class ImageFile:
    file_id: str = strawberry.field(description="The file id.")
    detail: ImageDetail = strawberry.field(description="Detail level for the model.")


@strawberry.type(description="An image file part of a message.")
class ImageFileContent:
    image_file: ImageFile = strawberry.field(description="The image file.")


@strawberry.type(description="An image on the web.")
class ImageUrl:
    url: str = strawberry.field(description="The http(s) URL of the image.")
    detail: ImageDetail = strawberry.field(description="Detail level for the model.")


@strawberry.type(description="An image URL part of a message.")
class ImageUrlContent:
    image_url: ImageUrl = strawberry.field(description="The image URL.")


MessageContent = Annotated[
    TextContent | ImageFileContent | ImageUrlContent,
    strawberry.union("MessageContent", description="A part of a message's content."),
]


def _annotation(annotation: domain.Annotation) -> FileCitationAnnotation | FilePathAnnotation:
    kind = (
        FileCitationAnnotation
        if isinstance(annotation, domain.FileCitation)
        else FilePathAnnotation
    )
    return kind(
        text=annotation.text,
        start_index=annotation.start_index,
        end_index=annotation.end_index,
        file_id=annotation.file_id,
    )


def content_from_domain(
    part: domain.ContentPart,
) -> TextContent | ImageFileContent | ImageUrlContent:
    if isinstance(part, domain.ImageFilePart):
        detail = ImageDetail(part.detail)
        return ImageFileContent(image_file=ImageFile(file_id=part.file_id, detail=detail))
    if isinstance(part, domain.ImageUrlPart):
        return ImageUrlContent(image_url=ImageUrl(url=part.url, detail=ImageDetail(part.detail)))
    annotations = [_annotation(a) for a in part.annotations]
    return TextContent(text=Text(value=part.value, annotations=annotations))
