"""The schema factory. Export target: `app.graphql.schema:schema`."""

from collections.abc import Callable
from functools import partial
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    SchemaExtension,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from app.errors import is_unexpected
from app.graphql.extensions import CACHE_SIZE, CachedParse, FinishResult, NodeBudget
from app.graphql.mutations import Mutation
from app.graphql.queries import Query
from app.graphql.scalars import SCALARS
from app.graphql.strings import StringRule
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


def make_schema(settings: Settings) -> ThreadsSchema:
    """The schema with the settings' query limits; in production without GraphiQL's field
    suggestions, and without introspection unless `graphql_introspection` asks for it."""
    # Rule classes made once, so that the validation cache (keyed by them) hits.
    rules: list[type[ASTValidationRule]] = [
        query_depth_limiter.create_validator(settings.max_query_depth, should_ignore=None),
        max_aliases.create_validator(settings.max_query_aliases),
    ]
    if settings.production and not settings.graphql_introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=settings.max_query_tokens),
        CachedParse,
        partial(AddValidationRules, rules),
        partial(ValidationCache, maxsize=CACHE_SIZE),
        StringRule,
        partial(NodeBudget, max_nodes=settings.max_query_nodes),
        partial(FinishResult, development=not settings.production),
    ]
    return ThreadsSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Thread, Message],
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALARS, disable_field_suggestions=settings.production),
    )


# The development schema with the default settings (not read from the environment): what
# `schema.graphql` is exported from and tests execute against.
schema = make_schema(Settings.model_construct())
