// main.c is the cluster-monitor plugin in C (ABI v1, abi/ABI.md): the same
// routes and answers as the Go plugin in ../cluster-monitor (GET /status,
// GET /data from the Kubernetes API plus the stored records, POST /data
// validating and storing a record with host_storage_get/host_storage_cas),
// built without libc by build.sh. It exists to measure what the guest
// language costs: module size, compile, instantiate, call and memory beside
// the Go build of the same plugin.
//
// Memory: one bump arena from __heap_base that grows memory as needed; every
// handler resets it just before it returns (the response stays in place until
// the next call's first allocate), so memory stays bounded over any number of
// calls. JSON is parsed into a small tree in the arena and written by hand.
#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

IMPORT(host_log) void host_log(uint32_t ptr, uint32_t len);
IMPORT(host_storage_get) uint64_t host_storage_get(uint32_t ptr, uint32_t len);
IMPORT(host_storage_cas) uint32_t host_storage_cas(uint32_t kptr, uint32_t klen, uint32_t optr, uint32_t olen, uint32_t vptr, uint32_t vlen);
IMPORT(host_k8s_api_call) uint64_t host_k8s_api_call(uint32_t pptr, uint32_t plen, uint32_t bptr, uint32_t blen);
IMPORT(host_request_info) uint64_t host_request_info(void);
IMPORT(host_set_response_status) uint32_t host_set_response_status(uint32_t code);

// Status codes of abi/ABI.md §5.
enum {
	ST_OK = 0, ST_NOT_FOUND = 1, ST_PERMISSION_DENIED = 3, ST_UNAVAILABLE = 6, ST_CONFLICT = 8,
};

static const char *const status_names[] = {
	"OK", "NOT_FOUND", "BAD_ARGUMENT", "PERMISSION_DENIED", "LIMIT_EXCEEDED",
	"INTERNAL", "UNAVAILABLE", "ALLOCATION_FAILED", "CONFLICT",
};

#define MANAGED_CLUSTERS_PATH "/apis/cluster.open-cluster-management.io/v1/managedclusters"
#define PERMISSION_TO_READ_THEM "kubestellar:read:clusters"
#define CLUSTERS_KEY "clusters"
#define MAX_STORE_ATTEMPTS 32
#define MAX_ID_LENGTH 63
#define MAX_NAME_LENGTH 256
#define MAX_QUOTED 64
#define MAX_DEPTH 64

// ---- memory ----------------------------------------------------------------

extern unsigned char __heap_base;

static uint32_t bump;

static uint32_t heap_base(void) { return (uint32_t)(uintptr_t)&__heap_base; }

static uint32_t addr(const void *p) { return (uint32_t)(uintptr_t)p; }

static uint64_t pack(uint32_t ptr, uint32_t len) { return (uint64_t)ptr << 32 | len; }

// clang may lower struct copies and loops to these calls; without libc they
// are ours.
void *memcpy(void *dst, const void *src, unsigned long n) {
	unsigned char *d = dst;
	const unsigned char *s = src;
	while (n--) {
		*d++ = *s++;
	}
	return dst;
}

void *memset(void *dst, int c, unsigned long n) {
	unsigned char *d = dst;
	while (n--) {
		*d++ = (unsigned char)c;
	}
	return dst;
}

// allocate(size) returns the 8-byte aligned address of size writable bytes,
// growing memory when needed, or 0 when memory cannot grow.
EXPORT(allocate) uint32_t allocate(uint32_t size) {
	if (bump == 0) {
		bump = heap_base();
	}
	uint64_t ptr = ((uint64_t)bump + 7) & ~(uint64_t)7;
	uint64_t end = ptr + size;
	if (end >= (uint64_t)1 << 32) {
		return 0;
	}
	uint64_t have = (uint64_t)__builtin_wasm_memory_size(0) << 16;
	if (end > have) {
		if (__builtin_wasm_memory_grow(0, (uint32_t)((end - have + 0xffff) >> 16)) == (uintptr_t)-1) {
			return 0;
		}
	}
	bump = (uint32_t)end;
	return (uint32_t)ptr;
}

// deallocate is a no-op: the arena is reset at the end of every handler.
EXPORT(deallocate) void deallocate(uint32_t ptr, uint32_t size) {
	(void)ptr;
	(void)size;
}

// alloc is allocate for C code: out of memory ends the call with a trap, which
// the host reports (and it discards the instance).
static void *alloc(uint32_t size) {
	uint32_t p = allocate(size ? size : 1);
	if (p == 0) {
		__builtin_trap();
	}
	return (void *)(uintptr_t)p;
}

static uint64_t end_call(uint64_t result) {
	bump = heap_base();
	return result;
}

// ---- strings and output buffers --------------------------------------------

typedef struct {
	const char *p;
	uint32_t n;
} str;

static uint32_t cstrlen(const char *s) {
	uint32_t n = 0;
	while (s[n]) {
		n++;
	}
	return n;
}

static str S(const char *s) { return (str){s, cstrlen(s)}; }

static int eq(str a, str b) {
	if (a.n != b.n) {
		return 0;
	}
	for (uint32_t i = 0; i < a.n; i++) {
		if (a.p[i] != b.p[i]) {
			return 0;
		}
	}
	return 1;
}

static int eqs(str a, const char *b) { return eq(a, S(b)); }

typedef struct {
	char *p;
	uint32_t n, cap;
} buf;

static void grow(buf *b, uint32_t more) {
	if (b->n + more <= b->cap) {
		return;
	}
	uint32_t cap = b->cap ? b->cap * 2 : 256;
	while (cap < b->n + more) {
		cap *= 2;
	}
	char *p = alloc(cap);
	memcpy(p, b->p, b->n);
	b->p = p;
	b->cap = cap;
}

static void putn(buf *b, const char *s, uint32_t n) {
	grow(b, n);
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void putc_(buf *b, char c) { putn(b, &c, 1); }

static void puts_(buf *b, const char *s) { putn(b, s, cstrlen(s)); }

static void putstr(buf *b, str s) { putn(b, s.p, s.n); }

static void putint(buf *b, int64_t v) {
	char tmp[24];
	int i = sizeof tmp;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0) {
		tmp[--i] = '-';
	}
	putn(b, tmp + i, sizeof tmp - i);
}

static str text(buf *b) { return (str){b->p, b->n}; }

static void putstatus(buf *b, uint32_t st) {
	if (st < sizeof status_names / sizeof status_names[0]) {
		puts_(b, status_names[st]);
		return;
	}
	puts_(b, "STATUS_");
	putint(b, st);
}

static const char hex[] = "0123456789abcdef";

// putjson writes s as a JSON string the way Go's encoding/json does for valid
// UTF-8: <, > and & as \u escapes, control characters escaped, U+2028 and
// U+2029 escaped.
static void putjson(buf *b, str s) {
	putc_(b, '"');
	for (uint32_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		switch (c) {
		case '"': puts_(b, "\\\""); continue;
		case '\\': puts_(b, "\\\\"); continue;
		case '\n': puts_(b, "\\n"); continue;
		case '\r': puts_(b, "\\r"); continue;
		case '\t': puts_(b, "\\t"); continue;
		case '\b': puts_(b, "\\b"); continue;
		case '\f': puts_(b, "\\f"); continue;
		}
		if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			puts_(b, "\\u00");
			putc_(b, hex[c >> 4]);
			putc_(b, hex[c & 15]);
			continue;
		}
		if (c == 0xe2 && i + 2 < s.n && (unsigned char)s.p[i + 1] == 0x80 &&
		    ((unsigned char)s.p[i + 2] == 0xa8 || (unsigned char)s.p[i + 2] == 0xa9)) {
			puts_(b, (unsigned char)s.p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
			i += 2;
			continue;
		}
		putc_(b, (char)c);
	}
	putc_(b, '"');
}

// shorten cuts s after MAX_QUOTED characters and appends "...".
static void putshort(buf *b, str s) {
	uint32_t chars = 0;
	for (uint32_t i = 0; i < s.n; i++) {
		if (((unsigned char)s.p[i] & 0xc0) != 0x80) {
			if (chars == MAX_QUOTED) {
				putn(b, s.p, i);
				puts_(b, "...");
				return;
			}
			chars++;
		}
	}
	putstr(b, s);
}

// putquoted writes shorten(s) in double quotes, escaping quotes, backslashes
// and control characters (like Go's strconv.Quote for printable text).
static void putquoted(buf *b, str s) {
	buf t = {0};
	putshort(&t, s);
	putc_(b, '"');
	for (uint32_t i = 0; i < t.n; i++) {
		unsigned char c = (unsigned char)t.p[i];
		if (c == '"' || c == '\\') {
			putc_(b, '\\');
			putc_(b, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			puts_(b, "\\x");
			putc_(b, hex[c >> 4]);
			putc_(b, hex[c & 15]);
		} else {
			putc_(b, (char)c);
		}
	}
	putc_(b, '"');
}

// ---- JSON parsing ------------------------------------------------------------

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

static const char *const kind_names[] = {"null", "boolean", "number", "string", "array", "object"};

typedef struct J {
	int kind;
	str s;   // a string's decoded text; a number's or literal's source text
	str key; // the member name, inside an object
	struct J *child, *next;
} J;

typedef struct {
	const char *p, *start, *end;
	buf err;
	int depth;
} P;

static void ws(P *p) {
	while (p->p < p->end && (*p->p == ' ' || *p->p == '\t' || *p->p == '\n' || *p->p == '\r')) {
		p->p++;
	}
}

static J *fail(P *p, const char *looking) {
	if (p->err.n) {
		return 0;
	}
	if (p->p >= p->end) {
		puts_(&p->err, "unexpected end of input");
		return 0;
	}
	puts_(&p->err, "invalid character ");
	unsigned char c = (unsigned char)*p->p;
	if (c >= 0x20 && c < 0x7f && c != '\'') {
		putc_(&p->err, '\'');
		putc_(&p->err, (char)c);
		putc_(&p->err, '\'');
	} else {
		puts_(&p->err, "byte 0x");
		putc_(&p->err, hex[c >> 4]);
		putc_(&p->err, hex[c & 15]);
	}
	puts_(&p->err, " ");
	puts_(&p->err, looking);
	puts_(&p->err, " at offset ");
	putint(&p->err, p->p - p->start);
	return 0;
}

static int hexval(char c) {
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static int hex4(P *p, uint32_t *out) {
	if (p->end - p->p < 4) {
		p->p = p->end;
		return 0;
	}
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(p->p[i]);
		if (h < 0) {
			p->p += i;
			return 0;
		}
		v = v << 4 | (uint32_t)h;
	}
	p->p += 4;
	*out = v;
	return 1;
}

static void pututf8(buf *b, uint32_t r) {
	if (r < 0x80) {
		putc_(b, (char)r);
	} else if (r < 0x800) {
		putc_(b, (char)(0xc0 | r >> 6));
		putc_(b, (char)(0x80 | (r & 0x3f)));
	} else if (r < 0x10000) {
		putc_(b, (char)(0xe0 | r >> 12));
		putc_(b, (char)(0x80 | (r >> 6 & 0x3f)));
		putc_(b, (char)(0x80 | (r & 0x3f)));
	} else {
		putc_(b, (char)(0xf0 | r >> 18));
		putc_(b, (char)(0x80 | (r >> 12 & 0x3f)));
		putc_(b, (char)(0x80 | (r >> 6 & 0x3f)));
		putc_(b, (char)(0x80 | (r & 0x3f)));
	}
}

// pstring parses a string at p->p (which is '"') and decodes it.
static int pstring(P *p, str *out) {
	p->p++;
	const char *from = p->p;
	while (p->p < p->end && *p->p != '"' && *p->p != '\\' && (unsigned char)*p->p >= 0x20) {
		p->p++;
	}
	if (p->p < p->end && *p->p == '"') { // no escapes: point into the input
		*out = (str){from, (uint32_t)(p->p - from)};
		p->p++;
		return 1;
	}
	buf b = {0};
	putn(&b, from, (uint32_t)(p->p - from));
	for (;;) {
		if (p->p >= p->end) {
			fail(p, "in string literal");
			return 0;
		}
		unsigned char c = (unsigned char)*p->p;
		if (c == '"') {
			p->p++;
			break;
		}
		if (c < 0x20) {
			fail(p, "in string literal");
			return 0;
		}
		if (c != '\\') {
			putc_(&b, (char)c);
			p->p++;
			continue;
		}
		p->p++;
		if (p->p >= p->end) {
			fail(p, "in string escape code");
			return 0;
		}
		char e = *p->p++;
		switch (e) {
		case '"': case '\\': case '/': putc_(&b, e); break;
		case 'b': putc_(&b, '\b'); break;
		case 'f': putc_(&b, '\f'); break;
		case 'n': putc_(&b, '\n'); break;
		case 'r': putc_(&b, '\r'); break;
		case 't': putc_(&b, '\t'); break;
		case 'u': {
			uint32_t r;
			if (!hex4(p, &r)) {
				fail(p, "in \\u hexadecimal character escape");
				return 0;
			}
			if (r >= 0xd800 && r < 0xdc00) { // a surrogate pair, or U+FFFD
				uint32_t lo;
				const char *save = p->p;
				if (p->end - p->p >= 6 && p->p[0] == '\\' && p->p[1] == 'u' && (p->p += 2, hex4(p, &lo)) &&
				    lo >= 0xdc00 && lo < 0xe000) {
					r = 0x10000 + ((r - 0xd800) << 10) + (lo - 0xdc00);
				} else {
					p->p = save;
					r = 0xfffd;
				}
			} else if (r >= 0xdc00 && r < 0xe000) {
				r = 0xfffd;
			}
			pututf8(&b, r);
			break;
		}
		default:
			p->p--;
			fail(p, "in string escape code");
			return 0;
		}
	}
	*out = text(&b);
	return 1;
}

static int digit(P *p) { return p->p < p->end && *p->p >= '0' && *p->p <= '9'; }

static J *pvalue(P *p);

static J *node(int kind) {
	J *j = alloc(sizeof(J));
	memset(j, 0, sizeof(J));
	j->kind = kind;
	return j;
}

static J *pcontainer(P *p, int kind) {
	J *j = node(kind);
	J **tail = &j->child;
	char close = kind == J_OBJ ? '}' : ']';
	if (++p->depth > MAX_DEPTH) {
		puts_(&p->err, "exceeded max depth");
		return 0;
	}
	p->p++;
	ws(p);
	if (p->p < p->end && *p->p == close) {
		p->p++;
		p->depth--;
		return j;
	}
	for (;;) {
		str key = {0};
		if (kind == J_OBJ) {
			ws(p);
			if (p->p >= p->end || *p->p != '"') {
				return fail(p, "looking for beginning of object key string");
			}
			if (!pstring(p, &key)) {
				return 0;
			}
			ws(p);
			if (p->p >= p->end || *p->p != ':') {
				return fail(p, "after object key");
			}
			p->p++;
		}
		J *v = pvalue(p);
		if (!v) {
			return 0;
		}
		v->key = key;
		*tail = v;
		tail = &v->next;
		ws(p);
		if (p->p < p->end && *p->p == ',') {
			p->p++;
			continue;
		}
		if (p->p < p->end && *p->p == close) {
			p->p++;
			p->depth--;
			return j;
		}
		return fail(p, kind == J_OBJ ? "after object key:value pair" : "after array element");
	}
}

static J *pliteral(P *p, const char *word, int kind) {
	J *j = node(kind);
	const char *from = p->p;
	for (const char *w = word; *w; w++, p->p++) {
		if (p->p >= p->end || *p->p != *w) {
			return fail(p, "in literal");
		}
	}
	j->s = (str){from, (uint32_t)(p->p - from)};
	return j;
}

static J *pvalue(P *p) {
	ws(p);
	if (p->p >= p->end) {
		return fail(p, "");
	}
	char c = *p->p;
	switch (c) {
	case '{': return pcontainer(p, J_OBJ);
	case '[': return pcontainer(p, J_ARR);
	case 't': return pliteral(p, "true", J_BOOL);
	case 'f': return pliteral(p, "false", J_BOOL);
	case 'n': return pliteral(p, "null", J_NULL);
	case '"': {
		J *j = node(J_STR);
		return pstring(p, &j->s) ? j : 0;
	}
	}
	if (c != '-' && !(c >= '0' && c <= '9')) {
		return fail(p, "looking for beginning of value");
	}
	J *j = node(J_NUM);
	const char *from = p->p;
	if (*p->p == '-') {
		p->p++;
	}
	if (!digit(p)) {
		return fail(p, "in numeric literal");
	}
	if (*p->p == '0') {
		p->p++;
	} else {
		while (digit(p)) p->p++;
	}
	if (p->p < p->end && *p->p == '.') {
		p->p++;
		if (!digit(p)) return fail(p, "after decimal point in numeric literal");
		while (digit(p)) p->p++;
	}
	if (p->p < p->end && (*p->p == 'e' || *p->p == 'E')) {
		p->p++;
		if (p->p < p->end && (*p->p == '+' || *p->p == '-')) p->p++;
		if (!digit(p)) return fail(p, "in exponent of numeric literal");
		while (digit(p)) p->p++;
	}
	j->s = (str){from, (uint32_t)(p->p - from)};
	return j;
}

// parse parses one JSON document; on failure it returns 0 and *err says why.
static J *parse(str in, str *err) {
	P p = {in.p, in.p, in.p + in.n, {0}, 0};
	J *j = pvalue(&p);
	if (j) {
		ws(&p);
		if (p.p < p.end) {
			j = fail(&p, "after top-level value");
		}
	}
	if (!j) {
		*err = text(&p.err);
	}
	return j;
}

// last returns the last member named key, as Go's encoding/json would use.
static J *last(J *obj, const char *key) {
	J *found = 0;
	for (J *m = obj && obj->kind == J_OBJ ? obj->child : 0; m; m = m->next) {
		if (eqs(m->key, key)) {
			found = m;
		}
	}
	return found;
}

static str strval(J *j) { return j && j->kind == J_STR ? j->s : (str){0, 0}; }

// parseint parses a decimal integer as Go's strconv.ParseInt(s, 10, 64):
// 1 ok, 0 syntax error, -1 out of range.
static int parseint(str s, int64_t *out) {
	uint32_t i = 0;
	int neg = 0;
	if (s.n && (s.p[0] == '-' || s.p[0] == '+')) {
		neg = s.p[0] == '-';
		i = 1;
	}
	if (i == s.n) {
		return 0;
	}
	uint64_t v = 0, limit = neg ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1;
	int range = 0;
	for (; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9') {
			return 0;
		}
		uint64_t d = (uint64_t)(s.p[i] - '0');
		if (v > (limit - d) / 10) {
			range = 1;
			v = limit;
		} else if (!range) {
			v = v * 10 + d;
		}
	}
	if (range) {
		return -1;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 1;
}

// ---- clusters ----------------------------------------------------------------

typedef struct {
	str id, name, status;
	int64_t nodes, pods;
} cluster;

typedef struct {
	cluster *v;
	uint32_t n, cap;
} clusters;

static void upsert(clusters *l, cluster c) {
	for (uint32_t i = 0; i < l->n; i++) {
		if (eq(l->v[i].id, c.id)) {
			l->v[i] = c;
			return;
		}
	}
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 8;
		cluster *v = alloc(cap * sizeof(cluster));
		memcpy(v, l->v, l->n * sizeof(cluster));
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = c;
}

static void putcluster(buf *b, const cluster *c) {
	puts_(b, "{\"id\":");
	putjson(b, c->id);
	puts_(b, ",\"name\":");
	putjson(b, c->name);
	puts_(b, ",\"status\":");
	putjson(b, c->status);
	puts_(b, ",\"nodes\":");
	putint(b, c->nodes);
	puts_(b, ",\"pods\":");
	putint(b, c->pods);
	putc_(b, '}');
}

static void putclusters(buf *b, const clusters *l) {
	putc_(b, '[');
	for (uint32_t i = 0; i < l->n; i++) {
		if (i) {
			putc_(b, ',');
		}
		putcluster(b, &l->v[i]);
	}
	putc_(b, ']');
}

static int64_t count(str s) {
	int64_t n;
	if (parseint(s, &n) != 1 || n < 0) {
		return 0;
	}
	return n;
}

// parse_managed_clusters turns a ManagedClusterList into clusters, as the Go
// plugin's parseManagedClusters: unhealthy unless the Available condition
// says True (healthy) or Unknown (warning).
static int parse_managed_clusters(str body, clusters *out, buf *err) {
	str perr;
	J *list = parse(body, &perr);
	if (!list) {
		puts_(err, "the ManagedClusterList is not valid JSON: ");
		putstr(err, perr);
		return 0;
	}
	if (list->kind != J_OBJ && list->kind != J_NULL) {
		puts_(err, "the ManagedClusterList is not valid JSON: cannot unmarshal ");
		puts_(err, kind_names[list->kind]);
		puts_(err, " into a ManagedClusterList");
		return 0;
	}
	str kind = strval(last(list, "kind"));
	if (kind.n && !eqs(kind, "ManagedClusterList")) {
		puts_(err, "the Kubernetes API answered with a ");
		putstr(err, kind);
		puts_(err, ", not a ManagedClusterList");
		return 0;
	}
	J *items = last(list, "items");
	for (J *it = items && items->kind == J_ARR ? items->child : 0; it; it = it->next) {
		J *meta = last(it, "metadata");
		str name = strval(last(meta, "name"));
		if (!name.n) {
			continue;
		}
		J *ann = last(meta, "annotations");
		cluster c = {name, name, S("unhealthy"), count(strval(last(ann, "kubestellar.io/node-count"))),
			count(strval(last(ann, "kubestellar.io/pod-count")))};
		str display = strval(last(ann, "kubestellar.io/display-name"));
		if (display.n) {
			c.name = display;
		}
		J *conds = last(last(it, "status"), "conditions");
		for (J *cond = conds && conds->kind == J_ARR ? conds->child : 0; cond; cond = cond->next) {
			if (!eqs(strval(last(cond, "type")), "ManagedClusterConditionAvailable")) {
				continue;
			}
			str st = strval(last(cond, "status"));
			if (eqs(st, "True")) {
				c.status = S("healthy");
			} else if (eqs(st, "Unknown")) {
				c.status = S("warning");
			}
			break;
		}
		upsert(out, c); // names are unique in a list; upsert only appends here
	}
	return 1;
}

// parse_stored reads the stored JSON array of records (null is an empty
// list), as Go's json.Unmarshal into []cluster.
static int parse_stored(str data, clusters *out, buf *err) {
	str perr;
	J *arr = parse(data, &perr);
	if (!arr) {
		putstr(err, perr);
		return 0;
	}
	if (arr->kind == J_NULL) {
		return 1;
	}
	if (arr->kind != J_ARR) {
		puts_(err, "cannot unmarshal ");
		puts_(err, kind_names[arr->kind]);
		puts_(err, " into a list of records");
		return 0;
	}
	for (J *r = arr->child; r; r = r->next) {
		if (r->kind != J_OBJ) {
			puts_(err, "cannot unmarshal ");
			puts_(err, kind_names[r->kind]);
			puts_(err, " into a record");
			return 0;
		}
		cluster c = {strval(last(r, "id")), strval(last(r, "name")), strval(last(r, "status")), 0, 0};
		J *nodes = last(r, "nodes"), *pods = last(r, "pods");
		if ((nodes && nodes->kind == J_NUM && parseint(nodes->s, &c.nodes) != 1) ||
		    (pods && pods->kind == J_NUM && parseint(pods->s, &c.pods) != 1)) {
			puts_(err, "a record's nodes or pods is not an int64");
			return 0;
		}
		// Stored lists are written by upsert, so ids are unique: append.
		if (out->n == out->cap) {
			uint32_t cap = out->cap ? out->cap * 2 : 8;
			cluster *v = alloc(cap * sizeof(cluster));
			memcpy(v, out->v, out->n * sizeof(cluster));
			out->v = v;
			out->cap = cap;
		}
		out->v[out->n++] = c;
	}
	return 1;
}

static const char *const record_fields[] = {"id", "name", "status", "nodes", "pods"};

static int is_dns_label(str s) {
	if (s.n < 1 || s.n > MAX_ID_LENGTH) {
		return 0;
	}
	for (uint32_t i = 0; i < s.n; i++) {
		char b = s.p[i];
		int alnum = (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9');
		if (!alnum && (b != '-' || i == 0 || i == s.n - 1)) {
			return 0;
		}
	}
	return 1;
}

static uint32_t runes(str s) {
	uint32_t n = 0;
	for (uint32_t i = 0; i < s.n; i++) {
		n += ((unsigned char)s.p[i] & 0xc0) != 0x80;
	}
	return n;
}

static int string_field(J *v, const char *name, str *out, buf *err) {
	if (v->kind != J_STR) {
		puts_(err, name);
		puts_(err, " must be a string, got ");
		puts_(err, kind_names[v->kind]);
		return 0;
	}
	*out = v->s;
	return 1;
}

static int count_field(J *v, const char *name, int64_t *out, buf *err) {
	if (v->kind != J_NUM) {
		puts_(err, name);
		puts_(err, " must be an integer >= 0, got ");
		puts_(err, kind_names[v->kind]);
		return 0;
	}
	switch (parseint(v->s, out)) {
	case -1:
		puts_(err, name);
		puts_(err, " ");
		putshort(err, v->s);
		puts_(err, " is out of range");
		return 0;
	case 0:
		puts_(err, name);
		puts_(err, " must be an integer >= 0, got ");
		putshort(err, v->s);
		return 0;
	}
	if (*out < 0) {
		puts_(err, name);
		puts_(err, " must be an integer >= 0, got ");
		putint(err, *out);
		return 0;
	}
	return 1;
}

// parse_record validates a POSTed record as the Go plugin's
// parseClusterRecord: a JSON object with exactly id, name, status, nodes
// and pods, each once, of the right kinds and ranges.
static int parse_record(str body, cluster *c, buf *err) {
	uint32_t i = 0;
	while (i < body.n && (body.p[i] == ' ' || body.p[i] == '\t' || body.p[i] == '\n' || body.p[i] == '\r')) {
		i++;
	}
	if (i == body.n) {
		puts_(err, "body is empty; send a JSON object with id, name, status, nodes and pods");
		return 0;
	}
	str perr;
	J *obj = parse(body, &perr);
	if (!obj) {
		puts_(err, "body is not JSON: ");
		putstr(err, perr);
		return 0;
	}
	if (obj->kind != J_OBJ) {
		puts_(err, "body must be a JSON object, got ");
		puts_(err, kind_names[obj->kind]);
		return 0;
	}
	J *values[5] = {0};
	for (J *m = obj->child; m; m = m->next) {
		int f = -1;
		for (int k = 0; k < 5; k++) {
			if (eqs(m->key, record_fields[k])) {
				f = k;
			}
		}
		if (f < 0) {
			puts_(err, "unknown field ");
			putquoted(err, m->key);
			puts_(err, " (the fields are id, name, status, nodes, pods)");
			return 0;
		}
		if (values[f]) {
			puts_(err, "duplicate field ");
			putquoted(err, m->key);
			return 0;
		}
		values[f] = m;
	}
	for (int k = 0; k < 5; k++) {
		if (!values[k]) {
			puts_(err, "missing field \"");
			puts_(err, record_fields[k]);
			puts_(err, "\"");
			return 0;
		}
	}
	if (!string_field(values[0], "id", &c->id, err) || !string_field(values[1], "name", &c->name, err) ||
	    !string_field(values[2], "status", &c->status, err) || !count_field(values[3], "nodes", &c->nodes, err) ||
	    !count_field(values[4], "pods", &c->pods, err)) {
		return 0;
	}
	if (!is_dns_label(c->id)) {
		puts_(err, "id ");
		putquoted(err, c->id);
		puts_(err, " is not a DNS label (1 to 63 lowercase letters, digits or '-', starting and ending with a letter or digit)");
		return 0;
	}
	uint32_t n = runes(c->name);
	if (n < 1 || n > MAX_NAME_LENGTH) {
		puts_(err, "name must be 1 to 256 characters long, got ");
		putint(err, n);
		return 0;
	}
	if (!eqs(c->status, "healthy") && !eqs(c->status, "warning") && !eqs(c->status, "unhealthy")) {
		puts_(err, "status ");
		putquoted(err, c->status);
		puts_(err, " is not one of healthy, warning, unhealthy");
		return 0;
	}
	return 1;
}

// ---- replies -------------------------------------------------------------------

typedef struct {
	int code;
	int ok;     // "success" or "error"
	str message;
	str data;   // JSON, or empty for none
	str log;
} reply;

static reply success(int code, const char *message, str data, str log) {
	return (reply){code, 1, S(message), data, log};
}

// failure takes the message built in msg.
static reply failure(int code, buf *msg) {
	buf log = {0};
	puts_(&log, "failed (");
	putint(&log, code);
	puts_(&log, "): ");
	putstr(&log, text(msg));
	return (reply){code, 0, text(msg), {0, 0}, text(&log)};
}

// send sets the status, logs and returns the packed JSON envelope.
static uint64_t send(const char *handler, str method, reply r) {
	if (r.code != 200) {
		host_set_response_status((uint32_t)r.code);
	}
	buf log = {0};
	puts_(&log, handler);
	puts_(&log, ": ");
	if (method.n) {
		putstr(&log, method);
		puts_(&log, ", ");
	}
	putstr(&log, r.log);
	host_log(addr(log.p), log.n);
	buf b = {0};
	puts_(&b, r.ok ? "{\"status\":\"success\",\"message\":" : "{\"status\":\"error\",\"message\":");
	putjson(&b, r.message);
	if (r.data.n) {
		puts_(&b, ",\"data\":");
		putstr(&b, r.data);
	}
	putc_(&b, '}');
	return end_call(pack(addr(b.p), b.n));
}

// ---- host calls ------------------------------------------------------------------

// result splits a packed import result into data and status.
static uint32_t result(uint64_t packed, str *data) {
	uint32_t ptr = (uint32_t)(packed >> 32), len = (uint32_t)packed;
	if (ptr == 0 && len != 0) {
		*data = (str){0, 0};
		return len;
	}
	*data = (str){(const char *)(uintptr_t)ptr, len};
	return ST_OK;
}

static int storage_code(uint32_t st) { return st == ST_UNAVAILABLE ? 503 : 500; }

// load_records reads the stored records; raw is the stored value (empty when
// none), for the compare-and-swap.
static int load_records(str *raw, clusters *out, reply *r) {
	static const char key[] = CLUSTERS_KEY;
	str data;
	uint32_t st = result(host_storage_get(addr(key), sizeof key - 1), &data);
	*raw = (str){0, 0};
	if (st == ST_NOT_FOUND || (st == ST_OK && data.n == 0)) {
		return 1;
	}
	buf msg = {0};
	if (st != ST_OK) {
		puts_(&msg, "cannot read the stored cluster records: host_storage_get returned ");
		putstatus(&msg, st);
		*r = failure(storage_code(st), &msg);
		return 0;
	}
	buf err = {0};
	if (!parse_stored(data, out, &err)) {
		puts_(&msg, "the stored cluster records are not a JSON array of records: ");
		putstr(&msg, text(&err));
		*r = failure(500, &msg);
		return 0;
	}
	*raw = data;
	return 1;
}

static reply get_clusters(void) {
	static const char path[] = MANAGED_CLUSTERS_PATH;
	str body;
	uint32_t st = result(host_k8s_api_call(addr(path), sizeof path - 1, 0, 0), &body);
	buf msg = {0};
	if (st == ST_PERMISSION_DENIED) {
		puts_(&msg, "kubernetes API call denied: ");
		putstatus(&msg, st);
		puts_(&msg, " (GET " MANAGED_CLUSTERS_PATH " needs the permission " PERMISSION_TO_READ_THEM ")");
		return failure(403, &msg);
	}
	if (st != ST_OK) {
		puts_(&msg, "kubernetes API call failed: ");
		putstatus(&msg, st);
		puts_(&msg, " (GET " MANAGED_CLUSTERS_PATH ")");
		return failure(502, &msg);
	}
	clusters list = {0};
	buf err = {0};
	if (!parse_managed_clusters(body, &list, &err)) {
		puts_(&msg, "kubernetes API call returned an unreadable answer: ");
		putstr(&msg, text(&err));
		return failure(502, &msg);
	}
	str raw;
	clusters stored = {0};
	reply r;
	if (!load_records(&raw, &stored, &r)) {
		return r;
	}
	for (uint32_t i = 0; i < stored.n; i++) {
		upsert(&list, stored.v[i]);
	}
	int healthy = 0, warning = 0;
	for (uint32_t i = 0; i < list.n; i++) {
		healthy += eqs(list.v[i].status, "healthy");
		warning += eqs(list.v[i].status, "warning");
	}
	buf data = {0};
	puts_(&data, "{\"clusters\":");
	putclusters(&data, &list);
	puts_(&data, ",\"total_clusters\":");
	putint(&data, list.n);
	puts_(&data, ",\"healthy_clusters\":");
	putint(&data, healthy);
	puts_(&data, ",\"warning_clusters\":");
	putint(&data, warning);
	putc_(&data, '}');
	buf log = {0};
	putint(&log, list.n);
	puts_(&log, " clusters");
	return success(200, "Cluster data retrieved successfully", text(&data), text(&log));
}

static reply post_cluster(str body) {
	cluster rec;
	buf err = {0}, msg = {0};
	if (!parse_record(body, &rec, &err)) {
		puts_(&msg, "invalid cluster record: ");
		putstr(&msg, text(&err));
		return failure(400, &msg);
	}
	static const char key[] = CLUSTERS_KEY;
	for (int attempt = 0; attempt < MAX_STORE_ATTEMPTS; attempt++) {
		str raw;
		clusters stored = {0};
		reply r;
		if (!load_records(&raw, &stored, &r)) {
			return r;
		}
		upsert(&stored, rec);
		buf value = {0};
		putclusters(&value, &stored);
		uint32_t st = host_storage_cas(addr(key), sizeof key - 1, addr(raw.p), raw.n, addr(value.p), value.n);
		if (st == ST_OK) {
			buf data = {0}, log = {0};
			putcluster(&data, &rec);
			puts_(&log, "cluster ");
			putstr(&log, rec.id);
			puts_(&log, " recorded, ");
			putint(&log, stored.n);
			puts_(&log, " stored");
			return success(201, "Cluster recorded", text(&data), text(&log));
		}
		if (st == ST_CONFLICT) {
			continue; // another request stored the list first: read it again
		}
		puts_(&msg, "cannot store the cluster record: host_storage_cas returned ");
		putstatus(&msg, st);
		return failure(storage_code(st), &msg);
	}
	puts_(&msg, "cannot store the cluster record: the list changed under 32 attempts in a row; try again");
	return failure(503, &msg);
}

// request_method learns the method from host_request_info; outside HTTP, an
// empty body is a GET and any other a POST (ABI §3).
static int request_method(str body, str *method, reply *r) {
	str data;
	uint32_t st = result(host_request_info(), &data);
	buf msg = {0};
	if (st == ST_NOT_FOUND) {
		*method = S(body.n == 0 ? "GET" : "POST");
		return 1;
	}
	if (st != ST_OK) {
		puts_(&msg, "cannot read the request: host_request_info returned ");
		putstatus(&msg, st);
		*r = failure(500, &msg);
		return 0;
	}
	str perr;
	J *info = parse(data, &perr);
	J *m = info ? last(info, "method") : 0;
	if (!info || (info->kind != J_OBJ && info->kind != J_NULL) || (m && m->kind != J_STR && m->kind != J_NULL)) {
		puts_(&msg, "cannot read the request: host_request_info returned invalid JSON: ");
		putstr(&msg, info ? S("the method is not a string") : perr);
		*r = failure(500, &msg);
		return 0;
	}
	str name = strval(m);
	if (name.n == 0) {
		puts_(&msg, "cannot read the request: host_request_info names no method");
		*r = failure(500, &msg);
		return 0;
	}
	char *up = alloc(name.n);
	for (uint32_t i = 0; i < name.n; i++) {
		char c = name.p[i];
		up[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
	}
	*method = (str){up, name.n};
	return 1;
}

// ---- handlers ----------------------------------------------------------------------

EXPORT(handle_status) uint64_t handle_status(uint32_t ptr, uint32_t len) {
	(void)ptr;
	(void)len;
	return send("handle_status", (str){0, 0},
		success(200, "Cluster monitor plugin is running",
			S("{\"plugin\":\"cluster-monitor\",\"version\":\"1.0.0\",\"status\":\"active\"}"), S("active")));
}

EXPORT(handle_data) uint64_t handle_data(uint32_t ptr, uint32_t len) {
	str body = {(const char *)(uintptr_t)ptr, len};
	str method = {0, 0};
	reply r;
	if (request_method(body, &method, &r)) {
		if (eqs(method, "GET")) {
			r = get_clusters();
		} else if (eqs(method, "POST")) {
			r = post_cluster(body);
		} else {
			buf msg = {0};
			puts_(&msg, "method ");
			putstr(&msg, method);
			puts_(&msg, " is not supported on /data; use GET or POST");
			r = failure(405, &msg);
		}
	}
	return send("handle_data", method, r);
}
