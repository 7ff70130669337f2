"""Operations: freshness, alerts and their wire formats, logging set-up."""
