"""``python -m geo_urp``: the one command line, the same as ``flask --app geo_urp``."""
from flask.cli import FlaskGroup

from geo_urp import create_app


def main() -> None:
    """Run the command line."""
    FlaskGroup(create_app=create_app, add_default_commands=False,
               help="geo_urp: incident mapping for a municipality's citizen line.")(prog_name="python -m geo_urp")


if __name__ == "__main__":
    main()
