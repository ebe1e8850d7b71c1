"""The GraphQL surface: types built from domain values, inputs, thin resolvers, extensions,
and the schema factory (`app.graphql.schema:schema` is the export target)."""
