/// How long and how much of the uploaded references `SOVITS_REF_DIR` keeps. Saved voices (`voices/`) are never
/// touched: they are kept until deleted.
public struct UploadRetention: Sendable, Equatable {
    /// `UPLOAD_KEEP_HOURS`: an upload not used for this long goes.
    public var keepSeconds: Double
    /// `UPLOAD_MAX_MB`: past this the least recently used go first.
    public var maxBytes: Int
    /// An upload used this recently stays whatever the limits: a request may still need it (it may wait
    /// `QUEUE_TIMEOUT` and then run `SOVITS_TIMEOUT`, on this gateway or another sharing the folder).
    public var graceSeconds: Double
    /// Free space the folder's disk should keep for new uploads (two of the largest allowed): below it the least
    /// recently used go too, so that a disk shared with other data is relieved before it is full, and at once when it is.
    public var minFreeBytes: Int

    public init(keepSeconds: Double, maxBytes: Int, graceSeconds: Double, minFreeBytes: Int = 0) {
        self.keepSeconds = keepSeconds
        self.maxBytes = maxBytes
        self.graceSeconds = graceSeconds
        self.minFreeBytes = minFreeBytes
    }
}
