"""Register the operations of clients/operations.graphql as trusted documents (see
./scripts/register-documents --help and docs/security.md#trusted-documents).

A persisted query is found by the SHA-256 hash of the exact text a client sends, so each
operation's text is rebuilt as the generated TypeScript client sends it through Apollo Client:

1. The document graphql-codegen generates for it (clients/generated/graphql.ts, typed-document-
   node): the operation, then the fragments it uses, in codegen's order (`codegen_document`).
2. What Apollo Client's InMemoryCache and QueryManager make of it before the link chain:
   `__typename` added to every selection set but the operation's own, and the client-only
   directives `@connection`, `@nonreactive` and `@unmask` removed (`apollo_document`).
3. Printed by graphql's `print`, as Apollo's persisted-queries link hashes it:
   `sha256(print(query))`.

tests/test_apollo_client.py proves the hashes against Apollo Client itself.
"""

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    NameNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

from app import domain, store
from app.http.persisted import sha256_hex
from app.settings import Settings
from scripts.apikey import with_database

OPERATIONS = Path(__file__).parent.parent / "clients" / "operations.graphql"
# Directives Apollo Client removes before sending (QueryManager's serverQuery).
REMOVED_DIRECTIVES = {"connection", "nonreactive", "unmask"}
# Directives that change what Apollo Client sends in ways not rebuilt here.
UNSUPPORTED_DIRECTIVES = {"client", "export"}


def _spreads(node: Node) -> list[str]:
    """The fragment names spread in `node`, in document order, each once."""
    names: dict[str, None] = {}

    class Spreads(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: Any) -> None:
            names[spread.name.value] = None

    visit(node, Spreads())
    return list(names)


def codegen_document(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> DocumentNode:
    """The document graphql-codegen's typed-document-node plugin writes for `operation`
    (documentMode documentNodeImportFragments): the operation, then the dependencies of the
    fragments it uses (nested spreads, depth first), then those fragments."""

    def used(node: Node) -> list[str]:  # _extractFragments(node, withNested=true)
        names: dict[str, None] = {}
        for name in _spreads(node):
            names[name] = None
            names.update(dict.fromkeys(used(fragments[name])))
        return list(names)

    def dependencies(name: str, done: dict[str, None]) -> None:  # DepGraph.dependenciesOf
        for dependency in _spreads(fragments[name]):
            if dependency not in done:
                dependencies(dependency, done)
                done[dependency] = None

    names = used(operation)
    ordered: dict[str, None] = {}
    for name in names:
        found: dict[str, None] = {}
        dependencies(name, found)
        ordered.update(found)
    ordered.update(dict.fromkeys(names))
    return DocumentNode(definitions=(operation, *(fragments[name] for name in ordered)))


class _ApolloTransform(Visitor):
    """addTypenameToDocument, then the removal of client-only directives."""

    def enter_selection_set(
        self, node: SelectionSetNode, key: Any, parent: Any, *_: Any
    ) -> SelectionSetNode | None:
        if isinstance(parent, OperationDefinitionNode):
            return None
        if any(isinstance(s, FieldNode) and s.name.value.startswith("__") for s in node.selections):
            return None
        typename = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())
        return SelectionSetNode(selections=(*node.selections, typename))

    def enter_directive(self, node: DirectiveNode, *_: Any) -> object:
        if node.name.value in UNSUPPORTED_DIRECTIVES:
            raise ValueError(f"@{node.name.value}: Apollo Client's handling of it is not rebuilt")
        return self.REMOVE if node.name.value in REMOVED_DIRECTIVES else None


def apollo_document(document: DocumentNode) -> DocumentNode:
    """What Apollo Client (InMemoryCache) sends for `document`."""
    transformed: DocumentNode = visit(document, _ApolloTransform())
    return transformed


def trusted_documents(source: str) -> list[store.TrustedDocument]:
    """Each named operation of `source` as the generated client sends it through Apollo."""
    definitions = parse(source, no_location=True).definitions
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    documents = []
    for operation in definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        if operation.name is None:
            raise ValueError("every operation of the file needs a name (codegen names them)")
        text = print_ast(apollo_document(codegen_document(operation, fragments)))
        documents.append(
            store.TrustedDocument(sha256=sha256_hex(text), name=operation.name.value, query=text)
        )
    return documents


def show(documents: Iterable[store.TrustedDocument], verb: str) -> None:
    for document in documents:
        print(f"{verb} {document.sha256}  {document.name}")


def main(arguments: argparse.Namespace, settings: Settings) -> int:
    documents = trusted_documents(Path(arguments.file).read_text())
    if arguments.dry_run:
        show(documents, "would register")
        return 0

    async def register(db: store.Database) -> list[store.TrustedDocument]:
        return await store.put_trusted_documents(
            db, documents, at=domain.now(), prune=arguments.prune
        )

    removed = with_database(settings, register)
    show(documents, "registered")
    show(removed, "removed")
    if not settings.trusted_documents_only:
        print("TRUSTED_DOCUMENTS_ONLY is off: every query runs, trusted or not.", file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="scripts/register-documents", description=__doc__)
    top.formatter_class = argparse.RawDescriptionHelpFormatter
    top.add_argument("--file", default=OPERATIONS, help="the operations (default: %(default)s)")
    top.add_argument(
        "--prune", action="store_true", help="remove the trusted documents not in the file"
    )
    top.add_argument(
        "--dry-run", action="store_true", help="print the hashes only; no database needed"
    )
    return top


if __name__ == "__main__":
    sys.exit(main(parser().parse_args(), Settings()))
