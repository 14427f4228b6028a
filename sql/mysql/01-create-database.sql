-- pixyproxy on MySQL 8 / MariaDB 10.6+: step 1 of 3, run as an administrator.
--   mariadb -u root -p < sql/mysql/01-create-database.sql
--
-- utf8mb4 stores any Unicode text (prompts carry emoji and CJK); the NO PAD binary collation
-- compares usernames, tags and guids code point for code point with trailing spaces significant,
-- as the SQLite engine does (utf8mb4_bin is PAD SPACE: it would find 'bob' for 'bob ').
-- Rename `pixyproxy` here, in 02 and in DATABASE_URL if you want another database name.

CREATE DATABASE IF NOT EXISTS `pixyproxy`
  CHARACTER SET utf8mb4
  COLLATE utf8mb4_nopad_bin;
