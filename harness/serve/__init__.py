"""The read-only API: ``app`` wires one router per concern (``wallets``: the P&L core, ``leaderboard``, ``positions``,
``history``, ``activity``, ``health``, ``docs``) to one ``warehouse``; ``models`` holds what every answer shares;
``export`` writes a wallet's P&L as CSV or JSON."""
