"""One shopper turn as four plain steps, each its own module:

- `understand` — the shopper's words → `Understanding` (intent, slots, references, language, mood);
- `decide` — understanding + conversation → `Decision` (answer, ask, act, hand off); no I/O;
- `act` — the tools the decision names (catalog, orders, policy, cancel), in parallel with
  budgets → `TurnFacts`;
- `phrase` — decision + facts → the reply, from the LLM (grounding-checked) or the template.

`pipeline` runs them for a shopper turn and for an agent's drafted reply; the conversation's
plumbing (locks, parked turns, replays, recording) lives in `gateway.conversation`.
"""
