"""The pure core: values, rules, checks, availability, the planner. No terminals, files or databases."""
