-- Creation logs of the given FPMMs (market structure: no time limit, like token_map): which condition each trades.
SELECT * FROM fpmm_creations FINAL WHERE _deleted = 0 AND fpmm IN {fpmms:Array(String)}
