-- Empty the market_names lookup before it is rewritten (a Join table keeps every block it was given on disk).
TRUNCATE TABLE market_names
