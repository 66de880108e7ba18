"""Document 002 and OpenAI conventions: completions, chat, models, audio."""
