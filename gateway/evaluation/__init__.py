"""`kefu eval conversations`: scripted shopper conversations played through a gateway, each turn's
reply judged against its expectations (docs/eval-conversations.md)."""
