"""The yardstick for ``bench/dashboard`` and ``bench/speed``: the smallest Flask app there is.

Served under the same gunicorn settings as Diary, it shows what one sync worker on
this machine can answer at best, so the dashboard's figure can be read as a share
of it rather than as a number that means nothing on another machine.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    """Return a constant greeting."""
    return "Hello, World!"
