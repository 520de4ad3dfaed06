// embedded:io/socket/listener on the host: the emulated Listener class of the device shim.
import { sockets } from "./device-global";
export default sockets.Listener;
