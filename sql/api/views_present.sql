-- Which of the given views exist in the current database.
SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN {views:Array(String)}
