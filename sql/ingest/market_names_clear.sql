-- Empty the market_names lookup before it is rewritten from market_metadata.
TRUNCATE TABLE market_names
