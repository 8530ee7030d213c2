package serve

import (
	"log/slog"
	"path/filepath"
	"runtime"
	"time"

	"github.com/kspbench/kspbench/abi"
	"github.com/kspbench/kspbench/host/kube"
)

// Config configures a Server. Only Engine and PluginsDir are required; every
// other zero field takes the default its comment names.
type Config struct {
	// Engine is the engine to run plugins on, or one of its configurations
	// as `kspbench engines` lists them: "wazero", "wazero:no-deadline",
	// "wasmer:singlepass". The binary must link the engine, unless
	// Isolation is IsolationProcess.
	Engine string
	// PluginsDir holds one folder per plugin (plugin.yml and its wasm).
	PluginsDir string
	// DataFile is the bbolt file of the plugins' storage. Default:
	// DefaultDataFile(PluginsDir).
	DataFile string
	// CacheDir is the root of the engines' compilation caches; the engine's
	// cache is CacheDir/<engine>[-<configuration>]. Default: DefaultCacheDir(DataFile).
	CacheDir string
	// Kube serves host_k8s_api_call. nil means kube.NewFixture(), the test
	// double, which the listing, /healthz and the log name as such.
	Kube kube.Client
	// Token guards the management API (Authorization: Bearer <token>).
	// Empty disables management: every management request gets 403.
	Token string
	// MaxInstances bounds each plugin's live instances and calls in flight.
	// Default: 2 × GOMAXPROCS.
	MaxInstances int
	// MaxWorkers bounds each isolated plugin's worker processes, and so its
	// calls in flight, under IsolationProcess; they start as calls overlap.
	// Default: GOMAXPROCS, at most 4 and at most MaxInstances: a worker runs
	// one call at a time, mostly guest code on a core, and costs a process
	// with its own engine and compiled module (resident, measured on
	// Linux on wazero and wasmer: 20-33 MiB for a small WAT guest, 30-50
	// MiB for the published TinyGo plugins, 118-159 MiB for the Go-built
	// cluster-monitor).
	MaxWorkers int
	// QueueSize is how many requests per plugin may wait for an instance
	// when all are busy; more are refused at once with 503. Default 64;
	// negative means none may wait.
	QueueSize int
	// QueueTimeout is how long a request waits for an instance before it
	// gets 503. Default 1s.
	QueueTimeout time.Duration
	// CallTimeout is the deadline of one handler call (504 past it).
	// Default abi.DefaultLimits.CallTimeout (5s).
	CallTimeout time.Duration
	// MaxBodyBytes is the largest request body passed to a plugin (413 past
	// it). Default abi.DefaultLimits.MaxRequestBytes (4 MiB); at most 4 GiB-1.
	MaxBodyBytes int64
	// MaxBodyBytesInFlight bounds the memory that the request bodies read
	// and held by requests in flight take together; a request whose body
	// would pass it is answered 503 with Retry-After. Bodies are reserved as
	// their bytes arrive, not as declared, so a client that declares a large
	// body and stalls holds only what it sent (until ReadTimeout). Default 64
	// × MaxBodyBytes (256 MiB with the default body limit); negative means
	// no bound.
	MaxBodyBytesInFlight int64
	// MaxUploadBytes is the largest plugin archive the install endpoint
	// accepts (413 past it). Default 32 MiB.
	MaxUploadBytes int64
	// Conn bounds connections, and the time clients may take (see
	// ConnLimits for why each limit exists). Serve applies them; ServeHTTP
	// alone does not.
	Conn ConnLimits
	// StorageMaxBytes and StorageMaxKeys are each plugin's storage quota:
	// the bytes of its keys and values, and its keys. A write past either
	// answers the guest LIMIT_EXCEEDED and writes nothing. Defaults
	// abi.DefaultLimits.MaxStorageBytes (64 MiB) and MaxStorageKeys (65,536).
	StorageMaxBytes uint64
	StorageMaxKeys  uint32
	// Archive bounds what an uploaded archive may unpack to.
	Archive ArchiveLimits
	// ShutdownTimeout bounds how long Serve waits for requests in flight
	// when its context ends. Default CallTimeout + QueueTimeout + 5s.
	ShutdownTimeout time.Duration
	// Logger receives request lines, plugin logs and the server's own
	// notes. nil means slog.Default().
	Logger *slog.Logger
	// PluginLogRate and PluginLogBurst bound each plugin's log records
	// (host_log and the host's notes on its calls), in process and
	// isolated: a token bucket of PluginLogRate records a second, up to
	// PluginLogBurst at once. Records past it are dropped, counted (the
	// listing's log_lines_dropped, kspbench_plugin_log_lines_dropped_total)
	// and summarised in one record a second. Defaults DefaultPluginLogRate
	// (100) and DefaultPluginLogBurst (500); a negative rate means no
	// limit.
	PluginLogRate  float64
	PluginLogBurst int
	// Isolation is where plugins run: IsolationNone (in this process) or
	// IsolationProcess (each plugin in a worker process of its own, killed
	// at a call's deadline, restarted when it dies). Default:
	// DefaultIsolation(Engine), process for wasmer.
	Isolation string
	// WorkerBinary is the kspbench executable that serves the isolation
	// workers (kspbench worker --engine <Engine>); it must link Engine.
	// Default: this process's executable.
	WorkerBinary string
	// ABI, when not nil, is the ABI profile every plugin is loaded under
	// (kspbench serve --abi); nil detects each plugin's (plugindir.ReadWith).
	ABI *abi.Profile
}

// ArchiveLimits bound the extraction of an uploaded plugin archive, against
// decompression bombs.
type ArchiveLimits struct {
	// MaxFiles is the most entries (files and folders) an archive may hold.
	// Default 1000.
	MaxFiles int
	// MaxBytes is the most bytes its entries may declare in total. Default
	// 256 MiB.
	MaxBytes int64
}

// DefaultDataFile is the storage file used when Config.DataFile is empty:
// kspbench-data.db beside the plugins folder, outside it, so that the folder
// holds plugins only.
func DefaultDataFile(pluginsDir string) string {
	abs, err := filepath.Abs(pluginsDir)
	if err != nil {
		abs = filepath.Clean(pluginsDir)
	}
	return filepath.Join(filepath.Dir(abs), "kspbench-data.db")
}

// DefaultCacheDir is the compilation cache root used when Config.CacheDir is
// empty: kspbench-cache beside the data file.
func DefaultCacheDir(dataFile string) string {
	return filepath.Join(filepath.Dir(dataFile), "kspbench-cache")
}

func (c Config) withDefaults() Config {
	if c.DataFile == "" {
		c.DataFile = DefaultDataFile(c.PluginsDir)
	}
	if c.CacheDir == "" {
		c.CacheDir = DefaultCacheDir(c.DataFile)
	}
	if c.MaxInstances <= 0 {
		c.MaxInstances = 2 * runtime.GOMAXPROCS(0)
	}
	if c.MaxWorkers <= 0 {
		c.MaxWorkers = min(runtime.GOMAXPROCS(0), 4, c.MaxInstances)
	}
	if c.QueueSize == 0 {
		c.QueueSize = 64
	}
	if c.QueueSize < 0 {
		c.QueueSize = 0
	}
	if c.QueueTimeout <= 0 {
		c.QueueTimeout = time.Second
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = abi.DefaultLimits.CallTimeout
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = int64(abi.DefaultLimits.MaxRequestBytes)
	}
	if c.MaxBodyBytesInFlight == 0 {
		c.MaxBodyBytesInFlight = 64 * c.MaxBodyBytes
	}
	if c.StorageMaxBytes == 0 {
		c.StorageMaxBytes = abi.DefaultLimits.MaxStorageBytes
	}
	if c.StorageMaxKeys == 0 {
		c.StorageMaxKeys = abi.DefaultLimits.MaxStorageKeys
	}
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = 32 << 20
	}
	if c.Archive.MaxFiles <= 0 {
		c.Archive.MaxFiles = 1000
	}
	if c.Archive.MaxBytes <= 0 {
		c.Archive.MaxBytes = 256 << 20
	}
	c.Conn = c.Conn.withDefaults(c)
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = c.CallTimeout + c.QueueTimeout + 5*time.Second
	}
	if c.Isolation == "" {
		c.Isolation = DefaultIsolation(c.Engine)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.PluginLogRate == 0 {
		c.PluginLogRate = DefaultPluginLogRate
	}
	if c.PluginLogBurst <= 0 {
		c.PluginLogBurst = DefaultPluginLogBurst
	}
	return c
}
