"""GraphQL types by domain: plans, targets, tasks, reviews, metrics, audit."""
