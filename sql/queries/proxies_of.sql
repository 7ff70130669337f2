-- The proxy wallets a signing EOA owns, from decoded factory creation events (wallet_proxies), oldest first.
SELECT proxy, any(kind) AS kind
FROM wallet_proxies FINAL
WHERE owner = {owner:String} AND _deleted = 0
GROUP BY proxy
ORDER BY min(block_number), proxy
