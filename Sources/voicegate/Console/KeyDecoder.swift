import CNcurses
import VoiceGateConsole

/// Reads one key with a timeout and turns ncurses' codes into `Key`s.
enum KeyDecoder {
    static func read() -> Key? {
        var value: wint_t = 0
        let result = wget_wch(vg_stdscr(), &value)
        if result == KEY_CODE_YES { return function(Int32(value)) }
        guard result == OK else { return nil }
        switch value {
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        case 1...26: return .control(Character(Unicode.Scalar(UInt8(value) + 96)))
        default:
            guard let scalar = Unicode.Scalar(UInt32(value)) else { return nil }
            return .character(Character(scalar))
        }
    }

    static func function(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_NPAGE: return .pageDown
        case KEY_PPAGE: return .pageUp
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_BTAB: return .backTab
        case KEY_ENTER: return .enter
        case KEY_RESIZE: return .resize
        default:
            for n in 1...12 where code == vg_key_f(Int32(n)) { return .function(n) }
            return nil
        }
    }
}
