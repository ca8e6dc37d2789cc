"""zhoubao (周报): a chat bot that runs a team's weekly report."""

__version__ = "0.1.0"
