// embedded:io/socket/tcp on the host: the emulated TCP class of the device shim.
import { sockets } from "./device-global";
export default sockets.TCP;
