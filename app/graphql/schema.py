"""The schema factory. Export target: `app.graphql.schema:schema`."""

from collections.abc import Callable
from functools import partial
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from app.errors import forget_frames, is_unexpected
from app.graphql import arguments
from app.graphql.execution import LeanExecution
from app.graphql.extensions import OperationHooks, Rules
from app.graphql.limits import Limits
from app.graphql.mutations import Mutation
from app.graphql.queries import Query
from app.graphql.scalars import SCALARS
from app.graphql.subscriptions import Subscription
from app.graphql.types import Message, Thread
from app.settings import Settings

DESCRIPTION = (
    "Conversation threads that hold messages, as LLM assistant platforms keep them: read a"
    " thread with its messages or a page of threads in one query, write with one mutation per"
    " use case, and follow a thread live with the threadEvents subscription. Every request acts"
    " for the organization and user of its API key."
)


class ThreadsSchema(strawberry.Schema):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._schema.description = DESCRIPTION

    def as_str(self) -> str:
        """The SDL, with the schema's description (which Strawberry's printer leaves out)."""
        roots = "\n".join(
            f"  {operation}: {name}"
            for operation, name in (
                ("query", "Query"),
                ("mutation", "Mutation"),
                ("subscription", "Subscription"),
            )
        )
        return f'"""{DESCRIPTION}"""\nschema {{\n{roots}\n}}\n\n{super().as_str()}'

    __str__ = as_str

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log only what is unexpected: client errors are answers, not incidents."""
        unexpected = [error for error in errors if is_unexpected(error)]
        if unexpected:
            super().process_errors(unexpected, execution_context)
        for error in errors:
            forget_frames(error)


def make_schema(settings: Settings) -> ThreadsSchema:
    """The schema with the settings' query limits; in production without suggestions of names
    in errors, and without introspection unless `graphql_introspection` asks for it."""
    arguments.install()
    rules: list[type[ASTValidationRule]] = []
    if settings.production and not settings.graphql_introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    limits = Limits(
        depth=settings.max_query_depth,
        aliases=settings.max_query_aliases,
        selections=settings.max_query_selections,
        nodes=settings.max_query_nodes,
    )
    every = Rules(
        max_tokens=settings.max_query_tokens,
        validation_rules=tuple(rules),
        limits=limits,
        max_bytes=settings.response_max_bytes,
        production=settings.production,
    )
    extensions: list[Callable[[], SchemaExtension]] = [partial(OperationHooks, rules=every)]
    return ThreadsSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Thread, Message],
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALARS, disable_field_suggestions=settings.production),
        execution_context_class=LeanExecution,
    )


# The development schema with the default settings (not read from the environment): what
# `schema.graphql` is exported from and tests execute against.
schema = make_schema(Settings.model_construct())
