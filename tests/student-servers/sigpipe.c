/*
 * A thread-per-client file server in C that dies of SIGPIPE.
 *
 *     sh tests/student-servers/cc.sh sigpipe.c PORT ROOT
 *
 * It sends a file as most C servers do, in pieces:
 *
 *     while ((n = read(file, buf, sizeof buf)) > 0)
 *         write(client, buf, n);
 *
 * with the result of write ignored, and nothing done about SIGPIPE. When the
 * client goes away while the file is still being sent (a reset, a browser
 * that stops loading, a download that is cancelled), the first write after
 * the reset fails with ECONNRESET, and the next one raises SIGPIPE, whose
 * default action ends the process: every client of the server, not just the
 * one that left. Short answers (an error page made in memory) go out in one
 * write, which cannot raise it here; a file of more than one piece (1 KiB)
 * can.
 *
 * Everything else is right for stages 1-3: a thread per client; the head is
 * read until its blank line; files go out as bytes, with a Content-Length in
 * bytes and the Content-Type of their extension; `/` gives index.html, `%XX`
 * is decoded and the query is ignored; realpath keeps every request inside
 * the root; 404 with error.html; 400 for what RFC 9112 says to refuse.
 *
 * What it proves: a death is blamed on its cause. The one client of stages
 * 1-3 that goes away mid-response is the one of `survives-bad-clients` that
 * asks for a file and resets; the server dies of it, and a fresh server dies
 * of that request alone too, so the check fails with SIGPIPE named ("it wrote
 * to a connection the client had closed"), and no other check is blamed for
 * the death. (The reset must come while the server is still writing: a file
 * the socket buffers take whole, as they may take data.bin, can be written
 * out before the reset arrives; big.bin cannot.)
 *
 * Expected: fails `survives-bad-clients`, and nothing else at stages 1-3.
 */
#define _XOPEN_SOURCE 700

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_HEAD 8192

static char root[PATH_MAX];

static const char *content_type(const char *path) {
    const char *dot = strrchr(path, '.');
    if (dot == NULL) return "application/octet-stream";
    if (strcmp(dot, ".html") == 0) return "text/html";
    if (strcmp(dot, ".css") == 0) return "text/css";
    if (strcmp(dot, ".txt") == 0) return "text/plain";
    if (strcmp(dot, ".png") == 0) return "image/png";
    if (strcmp(dot, ".jpg") == 0) return "image/jpeg";
    return "application/octet-stream";
}

/* A short answer made in memory: one write. */
static void send_error(int client, const char *status) {
    char response[512];
    int body = (int)strlen(status) + 10;
    int n = snprintf(response, sizeof response,
                     "HTTP/1.1 %s\r\nContent-Type: text/html\r\nContent-Length: %d\r\n"
                     "Connection: close\r\n\r\n<h1>%s</h1>\n",
                     status, body, status);
    write(client, response, n);
}

/* A file: the head, then the file in pieces. */
static void send_file(int client, const char *status, const char *path) {
    int file = open(path, O_RDONLY);
    struct stat info;
    if (file < 0 || fstat(file, &info) < 0) {
        if (file >= 0) close(file);
        send_error(client, "404 Not Found");
        return;
    }
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %lld\r\n"
                     "Connection: close\r\n\r\n",
                     status, content_type(path), (long long)info.st_size);
    write(client, head, n);
    char buf[1024];
    ssize_t got;
    /* The fault: write's result ignored, and SIGPIPE left to kill us. */
    while ((got = read(file, buf, sizeof buf)) > 0)
        write(client, buf, got);
    close(file);
}

static int hex(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Decodes %XX in place; 0 if an escape is bad or makes a NUL. */
static int url_decode(char *s) {
    char *out = s;
    for (; *s; s++) {
        if (*s == '%') {
            int hi = hex(s[1]), lo = hi < 0 ? -1 : hex(s[2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return 0;
            *out++ = (char)(hi * 16 + lo);
            s += 2;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
    return 1;
}

/* Whether the header lines are as RFC 9112 asks. */
static int headers_ok(char *lines, int http11) {
    int hosts = 0;
    char *save = NULL;
    for (char *line = strtok_r(lines, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char *colon = strchr(line, ':');
        if (colon == NULL || colon == line) return 0;
        for (char *c = line; c < colon; c++)
            if (isspace((unsigned char)*c)) return 0;
        *colon = '\0';
        char *value = colon + 1;
        while (*value == ' ' || *value == '\t') value++;
        if (strcasecmp(line, "host") == 0) hosts++;
        if (strcasecmp(line, "content-length") == 0) {
            if (!isdigit((unsigned char)*value)) return 0;
            for (char *c = value; *c && *c != ' ' && *c != '\t'; c++)
                if (!isdigit((unsigned char)*c)) return 0;
        }
    }
    return !http11 || hosts == 1;
}

static void answer(int client, char *head) {
    char *lines = strstr(head, "\r\n");
    if (lines) *lines++ = '\0'; else lines = head + strlen(head);
    char method[16], target[4096], version[16], extra[2];
    /* Exactly three words, one space apart. */
    int spaces = 0;
    for (char *c = head; *c; c++) spaces += *c == ' ';
    if (spaces != 2 || sscanf(head, "%15s %4095s %15s %1s", method, target, version, extra) != 3 ||
        (strcmp(version, "HTTP/1.1") != 0 && strcmp(version, "HTTP/1.0") != 0) ||
        !headers_ok(lines, strcmp(version, "HTTP/1.1") == 0)) {
        send_error(client, "400 Bad Request");
        return;
    }
    printf("%s %s\n", method, target);
    fflush(stdout);
    if (strcmp(method, "GET") != 0) {
        send_error(client, "405 Method Not Allowed");
        return;
    }
    char *query = strchr(target, '?');
    if (query) *query = '\0';
    char wanted[PATH_MAX + 4096], resolved[PATH_MAX], page[PATH_MAX + 16];
    snprintf(page, sizeof page, "%s/error.html", root);
    if (!url_decode(target)) {
        send_error(client, "400 Bad Request");
        return;
    }
    snprintf(wanted, sizeof wanted, "%s/%s", root, target);
    size_t length = strlen(root);
    if (realpath(wanted, resolved) == NULL ||
        strncmp(resolved, root, length) != 0 || (resolved[length] != '/' && resolved[length] != '\0')) {
        send_file(client, "404 Not Found", page);
        return;
    }
    struct stat info;
    if (stat(resolved, &info) == 0 && S_ISDIR(info.st_mode))
        strncat(resolved, "/index.html", sizeof resolved - strlen(resolved) - 1);
    if (stat(resolved, &info) != 0 || !S_ISREG(info.st_mode)) {
        send_file(client, "404 Not Found", page);
        return;
    }
    send_file(client, "200 OK", resolved);
}

static void *serve(void *arg) {
    int client = (int)(long)arg;
    struct timeval limit = {30, 0};
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    char head[MAX_HEAD + 1];
    size_t len = 0;
    head[0] = '\0';
    while (strstr(head, "\r\n\r\n") == NULL) {
        if (len == MAX_HEAD) {
            send_error(client, "431 Request Header Fields Too Large");
            close(client);
            return NULL;
        }
        ssize_t n = recv(client, head + len, MAX_HEAD - len, 0);
        if (n <= 0) { /* gone, or too slow */
            close(client);
            return NULL;
        }
        len += n;
        head[len] = '\0';
        if (strlen(head) != len) { /* a NUL byte: not a request */
            send_error(client, "400 Bad Request");
            close(client);
            return NULL;
        }
    }
    *strstr(head, "\r\n\r\n") = '\0';
    answer(client, head);
    close(client);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3 || atoi(argv[1]) <= 0) {
        fprintf(stderr, "usage: %s PORT ROOT\n", argv[0]);
        return 2;
    }
    if (realpath(argv[2], root) == NULL) {
        fprintf(stderr, "error: no such folder: %s\n", argv[2]);
        return 2;
    }
    int server = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(server, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(server, 64) < 0) {
        perror("error: cannot listen");
        return 1;
    }
    printf("Serving %s on http://127.0.0.1:%s/\n", root, argv[1]);
    fflush(stdout);
    for (;;) {
        int client = accept(server, NULL, NULL);
        if (client < 0) continue;
        pthread_t thread;
        if (pthread_create(&thread, NULL, serve, (void *)(long)client) != 0) {
            close(client);
            continue;
        }
        pthread_detach(thread);
    }
}
