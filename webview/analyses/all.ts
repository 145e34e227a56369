// Imports every analysis view so that it registers itself (see ./index.ts). Add one line per view.
import './futureLens';
import './importance';
import './geometry';
