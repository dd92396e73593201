"""The rules of Diary. Services take plain arguments (the acting user, values), never
request objects, so the web pages, the CLI and tests all go through the same rules."""
