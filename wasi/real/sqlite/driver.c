/* A small SQLite workload for the `real programs` check (wasi/real/README.md): creates a
 * database in the preopened directory given as argv[1], inserts 200,000 rows in one
 * transaction, indexes them, runs a few queries and prints their results. Every value is
 * computed from the row number, so the output is the same on every runtime. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite3.h"

static void die(sqlite3 *db, const char *what) {
    fprintf(stderr, "%s: %s\n", what, db ? sqlite3_errmsg(db) : "out of memory");
    exit(1);
}

static void exec(sqlite3 *db, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, err);
        exit(1);
    }
}

static int print_row(void *unused, int n, char **values, char **names) {
    (void)unused;
    for (int i = 0; i < n; i++) {
        printf("%s%s=%s", i ? " " : "", names[i], values[i] ? values[i] : "NULL");
    }
    printf("\n");
    return 0;
}

static void query(sqlite3 *db, const char *sql) {
    char *err = NULL;
    printf("> %s\n", sql);
    if (sqlite3_exec(db, sql, print_row, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, err);
        exit(1);
    }
}

int main(int argc, char **argv) {
    const int rows = argc > 2 ? atoi(argv[2]) : 200000;
    char path[512];
    snprintf(path, sizeof path, "%s/bench.db", argc > 1 ? argv[1] : ".");
    remove(path);
    sqlite3 *db = NULL;
    /* "unix-none": WASI has no POSIX advisory locks; this process is the only user. */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "unix-none") != SQLITE_OK) {
        die(db, "open");
    }
    /* Temporary files (sorting for CREATE INDEX) would go to a temp directory WASI lacks. */
    exec(db, "PRAGMA temp_store=MEMORY");
    exec(db, "PRAGMA journal_mode=MEMORY");
    exec(db, "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, category INTEGER, price REAL)");
    exec(db, "BEGIN");
    sqlite3_stmt *insert = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO items(id, name, category, price) VALUES (?, ?, ?, ?)", -1, &insert, NULL) != SQLITE_OK) {
        die(db, "prepare");
    }
    unsigned int x = 12345;
    for (int i = 1; i <= rows; i++) {
        char name[32];
        x = x * 1103515245u + 12345u;
        snprintf(name, sizeof name, "item-%08x", x);
        sqlite3_bind_int(insert, 1, i);
        sqlite3_bind_text(insert, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(insert, 3, (int)(x % 97));
        sqlite3_bind_double(insert, 4, (double)(x % 100000) / 100.0);
        if (sqlite3_step(insert) != SQLITE_DONE) {
            die(db, "insert");
        }
        sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    exec(db, "COMMIT");
    exec(db, "CREATE INDEX items_by_category ON items(category, price)");
    exec(db, "CREATE INDEX items_by_name ON items(name)");
    query(db, "SELECT count(*) AS n, printf('%.2f', sum(price)) AS total FROM items");
    query(db, "SELECT category, count(*) AS n, printf('%.2f', avg(price)) AS mean FROM items "
              "WHERE category IN (0, 13, 96) GROUP BY category ORDER BY category");
    query(db, "SELECT id, name, price FROM items WHERE category = 42 ORDER BY price DESC, id LIMIT 3");
    query(db, "SELECT count(*) AS n FROM items WHERE name BETWEEN 'item-8' AND 'item-9'");
    query(db, "SELECT min(name) AS first, max(name) AS last FROM items");
    sqlite3_close(db);
    return 0;
}
