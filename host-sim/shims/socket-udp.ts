// embedded:io/socket/udp on the host: the emulated UDP class of the device shim.
import { sockets } from "./device-global";
export default sockets.UDP;
